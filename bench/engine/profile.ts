import { writeFileSync } from "fs";
import { Session } from "inspector";

/**
 * With `EDGECLOUD_BENCH_CPU_PROF=<file>` (`npm run bench:engine -- --cpu-prof DIR`), profiles the program from here
 * until it exits and writes the V8 CPU profile to that file (open it in Chrome DevTools or speedscope).
 */
export function profileUntilExit(): void {
  const file = process.env.EDGECLOUD_BENCH_CPU_PROF;
  if (!file) return;
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  // an in-thread session answers synchronously, so this works in an exit handler too
  process.on("exit", () =>
    session.post("Profiler.stop", (err, r) => {
      if (!err) writeFileSync(file, JSON.stringify(r.profile));
    }),
  );
}
