import { spawnSync } from "child_process";

/** Runs shellcheck on a bash program given on stdin; returns its findings ("" when clean). */
export function shellcheck(program: string): string {
  const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", "-"], { input: program, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${r.error.message}`);
  return (r.stdout + r.stderr).trim();
}
