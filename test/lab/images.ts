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

export interface ImageRecipe {
  readonly name: string;
  readonly tag: string;
  readonly replaces: readonly string[];
  readonly from: string;
  /** bash that fills "$root" (the image's root filesystem) */
  readonly fill: string;
  readonly config: readonly string[];
}

/** A busybox root filesystem from Debian's busybox-static: every applet linked, root and nobody in passwd/group. */
const BUSYBOX_FILL = String.raw`mkdir -p "$root/bin" "$root/etc" "$root/tmp"
install -m 0755 /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"`;
const BUSYBOX_CONFIG = ["--config.cmd=sh", "--config.env=PATH=/bin"];

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
    fill: BUSYBOX_FILL,
    config: BUSYBOX_CONFIG,
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
  extra: readonly ImageRecipe[] = [],
): Promise<{ images: LabImage[]; ms: number }> {
  const recipes = [...RECIPES, ...extra];
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
    ...recipes.flatMap((r) => [
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
  const images = recipes.flatMap((r) =>
    r.replaces.map((replaces) => ({ replaces, ref: `${ep}/lab/${r.name}:${r.tag}`, from: r.from })),
  );
  return { images, ms: Date.now() - t0 };
}

/**
 * The instructions of an application's Dockerfile the lab's stand-in builder follows (examples/ci-pipeline/app uses
 * exactly these); anything else is refused, so the image never silently differs from what the Dockerfile says.
 */
export interface DockerfilePlan {
  readonly from: string;
  readonly copies: readonly { readonly src: string; readonly dest: string }[];
  readonly user?: string;
  readonly expose: readonly string[];
  readonly entrypoint: readonly string[];
}

export function parseDockerfile(text: string): DockerfilePlan {
  let from: string | undefined;
  let user: string | undefined;
  let entrypoint: string[] = [];
  const copies: { src: string; dest: string }[] = [];
  const expose: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [op, ...rest] = line.split(/\s+/);
    const arg = line.slice(op!.length).trim();
    switch (op!.toUpperCase()) {
      case "FROM":
        from = arg;
        break;
      case "COPY":
        if (rest.length !== 2 || rest[0]!.startsWith("--")) throw new Error(`Dockerfile: unsupported COPY: ${line}`);
        copies.push({ src: rest[0]!, dest: rest[1]! });
        break;
      case "USER":
        user = arg;
        break;
      case "EXPOSE":
        expose.push(...rest);
        break;
      case "ENTRYPOINT":
        entrypoint = JSON.parse(arg) as string[];
        break;
      default:
        throw new Error(`Dockerfile: the lab's stand-in builder does not follow ${op}: ${line}`);
    }
  }
  if (from === undefined) throw new Error("Dockerfile: no FROM");
  return { from, copies, ...(user !== undefined ? { user } : {}), expose, entrypoint };
}

/**
 * Builds an application image on `host` the way its Dockerfile says — the only base it knows is busybox (Debian's
 * busybox-static, the lab's stand-in for the `FROM busybox:…` image), `COPY` from `contextDir` on the host — and
 * pushes it to `ref` with the auth file and CA directory the caller wrote (a pipeline's own files). Kaniko stands
 * in here: its image is a download.
 */
export async function buildDockerfileImage(
  lab: Lab,
  host: string,
  opts: { contextDir: string; dockerfile: string; ref: string; authFile: string; certDir: string },
): Promise<{ plan: DockerfilePlan; ms: number }> {
  const t0 = Date.now();
  const plan = parseDockerfile(opts.dockerfile);
  if (!/^busybox(:|$)/.test(plan.from))
    throw new Error(`Dockerfile: FROM ${plan.from}: the lab has a busybox base only`);
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const config = [
    ...BUSYBOX_CONFIG.filter((c) => !c.startsWith("--config.cmd")),
    ...plan.entrypoint.map((e) => `--config.entrypoint=${e}`),
    ...(plan.user !== undefined ? [`--config.user=${plan.user}`] : []),
    ...plan.expose.map((p) => `--config.exposedports=${p.includes("/") ? p : `${p}/tcp`}`),
  ];
  await lab.sh(
    host,
    [
      "set -euo pipefail",
      "w=$(mktemp -d); trap 'rm -rf \"$w\"' EXIT",
      'umoci init --layout "$w/oci"',
      'umoci new --image "$w/oci:app"',
      'umoci unpack --image "$w/oci:app" "$w/app"',
      'root="$w/app/rootfs"',
      BUSYBOX_FILL,
      ...plan.copies.flatMap((c) => [
        `mkdir -p "$root"${q(c.dest.endsWith("/") ? c.dest : c.dest.replace(/\/[^/]*$/, "/"))}`,
        `cp -a ${q(`${opts.contextDir}/${c.src}`)} "$root"${q(c.dest)}`,
      ]),
      'umoci repack --image "$w/oci:app" "$w/app"',
      `umoci config --image "$w/oci:app" ${config.map(q).join(" ")}`,
      `skopeo copy --quiet --dest-authfile ${q(opts.authFile)} --dest-cert-dir ${q(opts.certDir)} "oci:$w/oci:app" ${q(`docker://${opts.ref}`)}`,
    ].join("\n"),
  );
  return { plan, ms: Date.now() - t0 };
}
