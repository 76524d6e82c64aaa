import { existsSync, readFileSync } from "fs";
import { join } from "path";
import { LabState, teardown } from "./teardown";

/**
 * Runs detached beside a lab (started by `registerLab`): when the owning process dies without tearing the lab
 * down — killed by SIGKILL, or by a signal inside jest, whose sandboxed `process` never delivers signal or exit
 * events to handlers registered from a test — it tears the lab down. Exits as soon as the lab's work directory
 * is gone (a normal teardown).
 *
 * Usage: node -r ts-node/register/transpile-only watchdog.ts <lab dir> <owner pid>
 */
const [dir, owner] = process.argv.slice(2);
const ownerPid = Number(owner);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const timer = setInterval(() => {
  const file = join(dir, "state.json");
  if (!existsSync(file)) {
    clearInterval(timer);
    return;
  }
  if (alive(ownerPid)) return;
  clearInterval(timer);
  try {
    teardown(JSON.parse(readFileSync(file, "utf8")) as LabState, (m) =>
      process.stderr.write(`edgecloud-lab watchdog: ${m}\n`),
    );
  } catch (e) {
    process.stderr.write(`edgecloud-lab watchdog: ${String(e)}\n`);
  }
}, 250);
