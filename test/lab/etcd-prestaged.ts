import { spawnSync } from "child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { Lab } from "./lab";

/** The etcd binaries scripts/build-tools.sh builds from go.etcd.io/etcd (`--stage etcd`). */
export const ETCD_BINARIES = ["etcd", "etcdctl", "etcdutl"] as const;

/**
 * Puts etcd built from its Go modules onto lab hosts the way an air-gapped user pre-stages a release: the release
 * tarball's layout (`etcd-<version>-linux-<arch>.tar.gz` holding one `etcd-<version>-linux-<arch>/` folder with
 * etcd, etcdctl, etcdutl — etcd-io/etcd v3.5.17 scripts/build-binary.sh packs `${PROJ}-${VER}-linux-${GOARCH}`)
 * and a `SHA256SUMS` beside it (scripts/release.sh publishes one per release). The library's `prestaged` install
 * path then verifies and installs it — nothing here installs etcd.
 * Returns the tarball's sha256.
 */
export function stageEtcdRelease(
  lab: Lab,
  hosts: readonly string[],
  opts: { binDir: string; version: string; dir: string; arch?: string },
): string {
  const name = `etcd-${opts.version}-linux-${opts.arch ?? "amd64"}`;
  const work = mkdtempSync(join(tmpdir(), "edgecloud-lab-etcd-"));
  try {
    mkdirSync(join(work, name));
    for (const b of ETCD_BINARIES) {
      copyFileSync(join(opts.binDir, b), join(work, name, b));
      chmodSync(join(work, name, b), 0o755);
    }
    const tar = spawnSync("tar", ["-czf", `${name}.tar.gz`, "--owner=0", "--group=0", name], { cwd: work });
    if (tar.status !== 0) throw new Error(`tar: ${String(tar.stderr)}`);
    const sum = spawnSync("sha256sum", [`${name}.tar.gz`], { cwd: work, encoding: "utf8" });
    if (sum.status !== 0) throw new Error(`sha256sum: ${sum.stderr}`);
    for (const h of hosts) {
      const to = join(lab.host(h).root, opts.dir);
      mkdirSync(to, { recursive: true, mode: 0o755 });
      copyFileSync(join(work, `${name}.tar.gz`), join(to, `${name}.tar.gz`));
      // the release's SHA256SUMS format: "<sha256>  <file>"
      writeFileSync(join(to, "SHA256SUMS"), sum.stdout);
    }
    return sum.stdout.split(/\s+/)[0]!;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The version line `etcd --version` prints, for the report. */
export function etcdVersionOf(binDir: string): string {
  const r = spawnSync(join(binDir, "etcd"), ["--version"], { encoding: "utf8" });
  return r.stdout.split("\n")[0] ?? "";
}
