import { Lab } from "../lab";

/**
 * A lab owner for the teardown test: boots one host, prints `READY <json>` and waits to be killed.
 * Usage: node -r ts-node/register/transpile-only owner-process.ts
 */
void (async () => {
  const lab = await Lab.start({ hosts: [{ name: "orphan" }] });
  const h = lab.host("orphan");
  process.stdout.write(
    `READY ${JSON.stringify({ dir: lab.dir, nspawnPid: h.nspawnPid, pidNs: h.pidNs, netns: h.netns, root: h.root })}\n`,
  );
  setInterval(() => undefined, 1 << 30);
})();
