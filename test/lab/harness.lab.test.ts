import { spawn } from "child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "fs";
import { join } from "path";
import { hostStep, makePlan } from "../../lib/steps";
import { ArgvSampler, secretNeedles } from "./argv-sampler";
import { describeFailures, executePlan, PlanRun } from "./executor";
import { FIXTURE_DIR, FIXTURE_UNIT, fixturePlan, FixturePlan, twoPhaseStep } from "./fixtures";
import { Lab } from "./lab";

/**
 * The lab harness itself, with fixture steps (no component): booting, SSH, the executor's ordering, parallelism,
 * idempotence accounting, the cut hook, delete, and a teardown that leaves nothing.
 */
const HOSTS = ["alpha", "beta", "gamma"];
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(120_000);

let lab: Lab | undefined;
let fixture: FixturePlan;
let first: PlanRun;
let sampler: ArgvSampler;

beforeAll(async () => {
  lab = await Lab.start({ hosts: HOSTS.map((name) => ({ name })), log });
  fixture = fixturePlan(HOSTS);
}, 20 * 60_000);

afterAll(async () => {
  sampler?.stop();
  await lab?.stop(log);
});

const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};

describe("GIVEN three booted lab hosts", () => {
  test("THEN each has its own hostname, machine-id and address, a booted systemd, pinned SSH, and no way out", async () => {
    const ids = new Set<string>();
    for (const h of the().hosts) {
      const out = await the().sh(
        h.name,
        `hostname; cat /etc/machine-id; systemctl is-system-running || true; ip -4 -o addr show dev eth0 | awk '{print $4}'
ip route show default | wc -l; systemctl is-enabled etcd.service 2>&1 || true; systemctl is-active etcd.service || true`,
      );
      const [hostname, machineId, state, addr, defaults, etcdEnabled, etcdActive] = out.trim().split("\n");
      expect(hostname).toBe(h.name);
      expect(machineId).toMatch(/^[0-9a-f]{32}$/);
      ids.add(machineId);
      expect(state).toMatch(/^(running|degraded)$/);
      expect(addr).toBe(`${h.address}/24`);
      expect(defaults).toBe("0");
      // Debian's etcd-server enables a plaintext default etcd; the image disables it
      expect(etcdEnabled).toBe("disabled");
      expect(etcdActive).toBe("inactive");
    }
    expect(ids.size).toBe(HOSTS.length);
    // the hosts reach each other over the bridge
    const reach = await the().sh(
      "alpha",
      HOSTS.map((n) => `timeout 2 bash -c '</dev/tcp/${n}/22' && echo ${n}`).join("\n"),
    );
    expect(reach.trim().split("\n")).toEqual(HOSTS);
  });

  describe("WHEN the executor runs the fixture plan", () => {
    beforeAll(async () => {
      sampler = new ArgvSampler(the(), 50).start();
      first = await executePlan(the(), fixture.plan);
    });

    test("THEN every step succeeds and reports what it changed", () => {
      expect(describeFailures(first)).toBe("no failures");
      expect(first.ok).toBe(true);
      expect(first.steps).toHaveLength(fixture.plan.steps.length);
      expect(first.get("alpha/config").changed).toBe(3); // dir + 2 files
      expect(first.get("alpha/unit").changed).toBeGreaterThanOrEqual(3); // file, enable, start
      expect(first.get("alpha/slow").changed).toBe(0);
    });

    test("THEN each step starts only after its dependencies ended, and independent steps overlap", () => {
      for (const s of fixture.plan.steps) {
        for (const d of s.dependsOn) expect(first.get(s.id).startMs).toBeGreaterThanOrEqual(first.get(d).endMs);
      }
      const configStarts = HOSTS.map((h) => first.get(`${h}/config`).startMs);
      expect(Math.max(...configStarts) - Math.min(...configStarts)).toBeLessThan(400);
      const sequential = first.steps.reduce((a, r) => a + r.ms, 0);
      expect(first.wallMs).toBeLessThan(sequential);
    });

    test("THEN the secret file is 0600 root and no argv on any host ever held the secret", async () => {
      sampler.stop();
      expect(sampler.samples).toBeGreaterThan(5);
      expect(sampler.count).toBeGreaterThan(10);
      const needles = secretNeedles(fixture.steps.flatMap((s) => s.files));
      expect(needles).toContain(fixture.secret);
      expect(sampler.find(needles)).toEqual([]);
      for (const h of HOSTS) {
        const out = await the().sh(h, `stat -c '%a %U:%G' ${FIXTURE_DIR}/token; ps -eo args`);
        expect(out.split("\n")[0]).toBe("600 root:root");
        expect(out).not.toContain(fixture.secret);
      }
    });

    describe("AND it runs the same plan again", () => {
      test("THEN no step changes anything, no unit restarts and no file is rewritten", async () => {
        const probe = `systemctl show -p ActiveEnterTimestampMonotonic --value ${FIXTURE_UNIT}; stat -c '%n %Y.%y' ${FIXTURE_DIR}/* /etc/systemd/system/${FIXTURE_UNIT}`;
        const before = await Promise.all(HOSTS.map((h) => the().sh(h, probe)));
        const again = await executePlan(the(), fixture.plan);
        expect(describeFailures(again)).toBe("no failures");
        expect(again.changedSteps.map((r) => r.id)).toEqual([]);
        const after = await Promise.all(HOSTS.map((h) => the().sh(h, probe)));
        expect(after).toEqual(before);
      });
    });
  });

  describe("WHEN a step fails", () => {
    test("THEN its dependents are skipped and independent steps still run", async () => {
      const plan = makePlan([
        hostStep({ host: "alpha", name: "boom", component: "lab-fixture", script: "echo 'no luck' >&2; exit 7" }),
        hostStep({
          host: "beta",
          name: "after-boom",
          component: "lab-fixture",
          script: ":",
          dependsOn: ["alpha/boom"],
        }),
        hostStep({ host: "gamma", name: "independent", component: "lab-fixture", script: ":" }),
      ]);
      const r = await executePlan(the(), plan);
      expect(r.ok).toBe(false);
      expect(r.failed.map((f) => [f.id, f.code])).toEqual([["alpha/boom", 7]]);
      expect(r.failed[0].stderr).toContain("no luck");
      expect(r.skipped).toEqual(["beta/after-boom"]);
      expect(r.get("gamma/independent").ok).toBe(true);
    });
  });

  describe("WHEN the SSH session is cut in the middle of a script", () => {
    const plan = makePlan([twoPhaseStep("beta")]);
    const files = `ls ${FIXTURE_DIR} | grep phase || true`;
    afterEach(async () => {
      await executePlan(the(), plan, { mode: "delete" });
    });

    test("AND the remote script dies with it THEN the step is half done, and a re-run completes it", async () => {
      const cut = await executePlan(the(), plan, {
        cut: { stepId: "beta/two-phase", onOutput: /phase-1 written/, remote: "kill" },
      });
      const r = cut.get("beta/two-phase");
      expect([r.cut, r.ok, r.changed]).toEqual([true, false, undefined]);
      await new Promise((res) => setTimeout(res, 3500));
      expect((await the().sh("beta", files)).trim().split("\n")).toEqual(["phase-1"]);
      const rerun = await executePlan(the(), plan);
      expect(describeFailures(rerun)).toBe("no failures");
      expect(rerun.get("beta/two-phase").changed).toBe(1);
      expect(await the().sh("beta", `cat ${FIXTURE_DIR}/phase-1 ${FIXTURE_DIR}/phase-2`)).toBe("one\ntwo\n");
    });

    test("AND only the connection drops THEN the remote script runs to its end on its own, and a re-run changes nothing", async () => {
      const cut = await executePlan(the(), plan, {
        cut: { stepId: "beta/two-phase", onOutput: /phase-1 written/, remote: "keep-running" },
      });
      expect(cut.get("beta/two-phase").cut).toBe(true);
      await new Promise((res) => setTimeout(res, 3500));
      expect((await the().sh("beta", files)).trim().split("\n")).toEqual(["phase-1", "phase-2"]);
      const rerun = await executePlan(the(), plan);
      expect(rerun.get("beta/two-phase").changed).toBe(0);
    });
  });

  describe("WHEN the plan is deleted", () => {
    test("THEN steps are undone in inverse dependency order and nothing of the fixture is left", async () => {
      const del = await executePlan(the(), fixture.plan, { mode: "delete" });
      expect(describeFailures(del)).toBe("no failures");
      for (const s of fixture.plan.steps) {
        for (const d of s.dependsOn) expect(del.get(d).startMs).toBeGreaterThanOrEqual(del.get(s.id).endMs);
      }
      for (const h of HOSTS) {
        const out = await the().sh(
          h,
          `ls -d ${FIXTURE_DIR} /etc/systemd/system/${FIXTURE_UNIT} 2>/dev/null || true; systemctl is-active ${FIXTURE_UNIT} || true`,
        );
        expect(out.trim()).toBe("inactive");
      }
      const again = await executePlan(the(), fixture.plan, { mode: "delete" });
      expect(again.changedSteps).toEqual([]);
    });
  });
});

describe("WHEN the lab stops", () => {
  test("THEN no process, mount, network namespace or work directory of it is left", async () => {
    const l = the();
    const namespaces = new Set(l.hosts.map((h) => h.pidNs));
    const report = await l.stop(log);
    expect(report.leftovers).toEqual([]);
    expect(report.graceful.sort()).toEqual([...HOSTS].sort());
    const left = readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          return (
            namespaces.has(readlinkSync(`/proc/${e}/ns/pid`)) &&
            !readFileSync(`/proc/${e}/stat`, "utf8").includes(") Z ")
          );
        } catch {
          return false;
        }
      });
    expect(left).toEqual([]);
    for (const h of l.hosts) {
      expect(existsSync(`/run/netns/${h.netns}`)).toBe(false);
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(h.root);
    }
    expect(existsSync(l.dir)).toBe(false);
  });
});

describe("WHEN the process that owns a lab is killed with SIGKILL", () => {
  test("THEN its watchdog tears the lab down: no process, namespace, mount or directory is left", async () => {
    const child = spawn(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), join(__dirname, "support", "owner-process.ts")],
      {
        stdio: ["ignore", "pipe", "inherit"],
        cwd: join(__dirname, "..", ".."),
      },
    );
    const ready = await new Promise<{ dir: string; nspawnPid: number; pidNs: string; netns: string; root: string }>(
      (resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (c: Buffer) => {
          out += c.toString();
          const m = /^READY (.*)$/m.exec(out);
          if (m) resolve(JSON.parse(m[1]));
        });
        child.on("exit", (code) => reject(new Error(`owner exited early (${code})`)));
      },
    );
    expect(existsSync(`/proc/${ready.nspawnPid}`)).toBe(true);
    child.kill("SIGKILL");
    const gone = (): boolean =>
      !existsSync(ready.dir) &&
      !existsSync(`/run/netns/${ready.netns}`) &&
      !readFileSync("/proc/self/mountinfo", "utf8").includes(ready.root) &&
      !readdirSync("/proc").some((e) => {
        try {
          return /^\d+$/.test(e) && readlinkSync(`/proc/${e}/ns/pid`) === ready.pidNs;
        } catch {
          return false;
        }
      });
    const deadline = Date.now() + 30_000;
    while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(gone()).toBe(true);
  });
});

describe("WHEN a host's shutdown hangs (a service whose stop never ends)", () => {
  test("THEN teardown SIGKILLs the container's systemd and services by PID and nothing of it is left", async () => {
    const stuck = await Lab.start({ hosts: [{ name: "stuck" }], log });
    const h = stuck.host("stuck");
    try {
      await stuck.sh(
        "stuck",
        `cat >/etc/systemd/system/lab-stuck.service <<'UNIT'
[Service]
ExecStart=/bin/sleep infinity
ExecStop=/bin/sleep infinity
TimeoutStopSec=infinity
UNIT
systemctl daemon-reload && systemctl start lab-stuck.service`,
      );
    } catch (e) {
      await stuck.stop(log);
      throw e;
    }
    const report = await stuck.stop(log, { graceMs: 3000 });
    expect(report.graceful).toEqual([]);
    expect(report.killed.some((k) => / systemd$/.test(k))).toBe(true);
    expect(report.killed.some((k) => / sleep$/.test(k))).toBe(true);
    expect(report.leftovers).toEqual([]);
    const left = readdirSync("/proc").filter((e) => {
      try {
        return (
          /^\d+$/.test(e) &&
          readlinkSync(`/proc/${e}/ns/pid`) === h.pidNs &&
          !readFileSync(`/proc/${e}/stat`, "utf8").includes(") Z ")
        );
      } catch {
        return false;
      }
    });
    expect(left).toEqual([]);
    expect(existsSync(`/run/netns/${h.netns}`)).toBe(false);
    expect(existsSync(stuck.dir)).toBe(false);
  });
});
