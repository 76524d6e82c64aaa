import { readFileSync } from "fs";
import { join } from "path";

/**
 * The bash library every step bundle starts with (`prelude.sh` beside this file, shellchecked on its own).
 * Its functions count what they change in EC_CHANGED so an executor can tell a no-op re-run (changed=0) from a
 * run that did something.
 */
export const STEP_PRELUDE: string = readFileSync(join(__dirname, "prelude.sh"), "utf8");
