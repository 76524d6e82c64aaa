import { execFileSync } from "child_process";

/** Runs shellcheck on a bash program; returns its findings ("" when clean). */
export function shellcheck(program: string): string {
  try {
    execFileSync("shellcheck", ["-s", "bash", "-"], { input: program, encoding: "utf8" });
    return "";
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}
