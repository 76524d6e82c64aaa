import { HostStep, StepFile } from "./host-step";
import { STEP_PRELUDE } from "./prelude";
import { sh } from "./sh";

export { shellQuote } from "./sh";

/** The line a bundle prints last; executors parse it to count steps that changed something. */
export const CHANGED_MARKER = "edgecloud-step: changed=";

/**
 * The complete program an executor sends to `bash -s` on the host, over stdin: prelude, files (base64
 * heredocs, so secrets never reach argv), the step's script, and the changed-marker line.
 */
export function renderStepBundle(step: HostStep, prelude: string = STEP_PRELUDE): string {
  return [
    "#!/usr/bin/env bash",
    `# edgecloud step ${step.id} (${step.component}) ${step.hash.slice(0, 12)}`,
    prelude,
    ...step.files.map(renderFilePut),
    "# --- step ---",
    step.script.trimEnd(),
    `echo "${CHANGED_MARKER}$EC_CHANGED"`,
    "",
  ].join("\n");
}

/**
 * The inverse program run on delete. `prelude`: the prelude's text, or (in a chain, which carries it once) the line
 * that sources it.
 */
export function renderDeleteBundle(step: HostStep, prelude: string = STEP_PRELUDE): string {
  return [
    "#!/usr/bin/env bash",
    `# edgecloud delete ${step.id} (${step.component})`,
    prelude,
    "# --- delete ---",
    step.deleteScript.trimEnd() || ":",
    `echo "${CHANGED_MARKER}$EC_CHANGED"`,
    "",
  ].join("\n");
}

function renderFilePut(f: StepFile): string {
  const b64 = Buffer.from(f.content, "utf8")
    .toString("base64")
    .replace(/.{1,76}/g, "$&\n");
  return `${sh`ec_put ${f.path} ${f.mode} ${f.owner ?? "root:root"}`} <<'EC_FILE_EOF'\n${b64}EC_FILE_EOF`;
}

/** Parses the changed count from a bundle's stdout; undefined when the marker is missing (the run died). */
export function parseChanged(stdout: string): number | undefined {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(CHANGED_MARKER));
  return line === undefined ? undefined : Number(line.slice(CHANGED_MARKER.length));
}
