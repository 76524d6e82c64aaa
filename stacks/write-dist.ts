import { createHash } from "crypto";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { objectsToYaml } from "../lib/manifests/chart";
import { renderDeleteBundle, renderStepBundle } from "../lib/steps/bundle";
import { HostStep } from "../lib/steps/host-step";
import { SynthOutput } from "./synth";
import { renderTopologySvg } from "./topology-svg";

/** What {@link writeDist} wrote, for the summary. */
export interface DistSummary {
  readonly dir: string;
  /** Host → number of step scripts. */
  readonly hosts: Readonly<Record<string, number>>;
  /** Component → number of objects. */
  readonly manifests: Readonly<Record<string, number>>;
  readonly files: number;
  readonly secretFiles: number;
  /** The artifacts' paths (relative to `dir`), in the order written. */
  readonly artifacts: readonly string[];
}

/** Width of the step number: `01-preflight.sh` … `12-k3s-start.sh`. */
function numberWidth(n: number): number {
  return Math.max(2, String(n).length);
}

/** `NN-<step>.sh` for the i-th (0-based) of n steps on a host. */
export function stepScriptName(step: HostStep, index: number, count: number): string {
  return `${String(index + 1).padStart(numberWidth(count), "0")}-${step.name}.sh`;
}

/**
 * Writes a synth output under `dir` (replacing what was there):
 *
 * - `hosts/<host>/NN-<step>.sh` — the complete bundle an executor pipes to `bash -s`, in run order (mode 0700);
 *   `hosts/<host>/delete/NN-<step>.sh` — the inverse bundles, run in reverse order on teardown;
 * - `hosts/<host>/files/<absolute path>` — every file the steps place, for review; secret files hold a
 *   `# secret …` stub here (their content is only inside the bundle); `hosts/<host>/files.txt` lists them all;
 * - `manifests/<component>.yaml` — each component's objects;
 * - every component's artifacts at their own paths (e.g. `edge-pools/<pool>/user-data` and `join.sh`, 0600), with
 *   their own modes;
 * - `topology.svg`.
 *
 * The bundles carry the generated token, keys and passwords, so every directory is 0700 and every file 0600
 * (scripts 0700).
 */
export function writeDist(out: SynthOutput, dir: string): DistSummary {
  rmSync(dir, { recursive: true, force: true });
  const mkdir = (d: string) => mkdirSync(d, { recursive: true, mode: 0o700 });
  const write = (f: string, content: string, mode = 0o600) => {
    mkdir(dirname(f));
    writeFileSync(f, content, { mode });
    chmodSync(f, mode);
  };
  mkdir(dir);
  chmodSync(dir, 0o700);
  let files = 0;
  let secretFiles = 0;
  const hosts: Record<string, number> = {};
  for (const [host, steps] of Object.entries(out.hosts)) {
    const hdir = join(dir, "hosts", host);
    mkdir(hdir);
    const listing: string[] = ["# mode owner path step (secret files: content only inside the step's bundle)"];
    steps.forEach((s, i) => {
      const name = stepScriptName(s, i, steps.length);
      write(join(hdir, name), renderStepBundle(s), 0o700);
      if (s.deleteScript.trim() !== "") write(join(hdir, "delete", name), renderDeleteBundle(s), 0o700);
      for (const f of s.files) {
        files++;
        if (f.secret) secretFiles++;
        const content = f.secret
          ? `# secret: ${Buffer.byteLength(f.content)} bytes, sha256 ${createHash("sha256").update(f.content).digest("hex").slice(0, 16)}…; written by ${name}\n`
          : f.content;
        write(join(hdir, "files", f.path), content);
        listing.push(`${f.mode} ${f.owner ?? "root:root"} ${f.path} ${name}${f.secret ? " secret" : ""}`);
      }
    });
    write(join(hdir, "files.txt"), `${listing.join("\n")}\n`);
    hosts[host] = steps.length;
  }
  const manifests: Record<string, number> = {};
  for (const [component, objects] of Object.entries(out.manifests)) {
    write(join(dir, "manifests", `${component}.yaml`), objectsToYaml(objects));
    manifests[component] = objects.length;
  }
  for (const a of out.artifacts) write(join(dir, ...a.path.split("/")), a.content, a.mode);
  write(join(dir, "topology.svg"), renderTopologySvg(out.topology), 0o644);
  return { dir, hosts, manifests, files, secretFiles, artifacts: out.artifacts.map((a) => a.path) };
}
