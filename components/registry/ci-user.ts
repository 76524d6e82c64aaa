import { RegistryProps } from "./spec";

/** What CI pipelines need to push to this registry (`auth.ciUser`): the image prefix, the user, the CA. */
export interface RegistryCiAccess {
  /** `host:port` every node pulls from: images are `<endpoint>/<repository>:<tag>`. */
  readonly endpoint: string;
  readonly username: string;
  readonly password: string;
  /** @default - none (no TLS) */
  readonly caPem?: string;
}

/** The CI user's access, or undefined without `auth.ciUser`. */
export function registryCiAccess(props: RegistryProps): RegistryCiAccess | undefined {
  const name = props.spec.auth?.ciUser;
  if (name === undefined) return undefined;
  const user = props.users.find((u) => u.username === name);
  if (!user) throw new Error(`registry: auth.ciUser "${name}" has no resolved password`);
  return {
    endpoint: props.endpoint,
    username: user.username,
    password: user.password,
    ...(props.tls.kind === "tls" ? { caPem: props.tls.caPem } : {}),
  };
}
