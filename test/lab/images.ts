import { RegistryProps } from "../../components/registry/spec";
import { Lab } from "./lab";

/**
 * OCI images built in the lab from Debian 12 binaries (umoci), pushed with skopeo into the library's Registry (host
 * mode, TLS + htpasswd) with a pushing user's credentials (auth file and cert dir, never argv). Nodes pull them back
 * only through the configuration the library rendered for them, with the node user's credentials.
 */
export interface LabImage {
  /** What it stands in for: the upstream reference the manifests name (or "pause" for the sandbox image). */
  readonly replaces: string;
  /** Where it is: `<registry endpoint>/lab/<name>:<tag>`. */
  readonly ref: string;
  /** Where its binary comes from. */
  readonly from: string;
}

interface ImageRecipe {
  readonly name: string;
  readonly tag: string;
  readonly replaces: readonly string[];
  readonly from: string;
  /** bash that fills "$root" (the image's root filesystem) */
  readonly fill: string;
  readonly config: readonly string[];
}

const RECIPES: readonly ImageRecipe[] = [
  {
    name: "pause",
    tag: "catatonit-0.1.7",
    replaces: ["pause"],
    from: "Debian 12 catatonit 0.1.7 (static), `catatonit -P` is a pause process",
    fill: 'install -m 0755 /usr/bin/catatonit "$root/catatonit"',
    config: ["--config.entrypoint=/catatonit", "--config.entrypoint=-P"],
  },
  {
    name: "busybox",
    tag: "1.35.0-debian",
    replaces: ["busybox:1.36.1"],
    from: "Debian 12 busybox-static 1.35.0 (the manifests name busybox 1.36.1)",
    fill: String.raw`mkdir -p "$root/bin" "$root/etc" "$root/tmp"
install -m 0755 /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"`,
    config: ["--config.cmd=sh", "--config.env=PATH=/bin"],
  },
];

/**
 * Builds every recipe on `host` (the registry host: it has umoci and skopeo) and pushes it as `pushUser`.
 * Returns the images and how long building and pushing took.
 */
export async function buildAndPushImages(
  lab: Lab,
  host: string,
  registry: RegistryProps,
  pushUser: string,
): Promise<{ images: LabImage[]; ms: number }> {
  const t0 = Date.now();
  const user = registry.users.find((u) => u.username === pushUser);
  if (!user) throw new Error(`no registry user ${pushUser}`);
  if (registry.tls.kind !== "tls") throw new Error("the lab registry must have TLS");
  const ep = registry.endpoint;
  const auth = Buffer.from(`${user.username}:${String(user.password)}`).toString("base64");
  const script = [
    "set -euo pipefail",
    "umask 077",
    "install -d -m 0700 /root/lab-push-certs",
    `cat >/root/lab-push-certs/ca.crt <<'EOF'\n${registry.tls.caPem.trim()}\nEOF`,
    `printf '%s' '{"auths":{"${ep}":{"auth":"${auth}"}}}' >/root/lab-push-auth.json`,
    "umask 022",
    'w=/root/lab-images; rm -rf "$w"; mkdir -p "$w"',
    'umoci init --layout "$w/oci"',
    ...RECIPES.flatMap((r) => [
      `umoci new --image "$w/oci:${r.name}"`,
      `umoci unpack --image "$w/oci:${r.name}" "$w/${r.name}"`,
      `root="$w/${r.name}/rootfs"`,
      r.fill,
      `umoci repack --image "$w/oci:${r.name}" "$w/${r.name}"`,
      `umoci config --image "$w/oci:${r.name}" ${r.config.map((c) => `'${c}'`).join(" ")}`,
      `skopeo copy --quiet --dest-authfile /root/lab-push-auth.json --dest-cert-dir /root/lab-push-certs "oci:$w/oci:${r.name}" "docker://${ep}/lab/${r.name}:${r.tag}"`,
    ]),
    'rm -rf "$w" /root/lab-push-auth.json /root/lab-push-certs',
  ].join("\n");
  await lab.sh(host, script);
  const images = RECIPES.flatMap((r) =>
    r.replaces.map((replaces) => ({ replaces, ref: `${ep}/lab/${r.name}:${r.tag}`, from: r.from })),
  );
  return { images, ms: Date.now() - t0 };
}
