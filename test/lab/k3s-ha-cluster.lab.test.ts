import { parse } from "yaml";
import {
  clusterTopology,
  ETCD_STATE_ENV_FILE,
  ETCD_UNIT,
  etcdRollingRestartSteps,
  K3S_CONFIG_FILE,
  K3S_DATASTORE_FILES,
} from "../../components/k3s-ha-cluster";
import { createCa, issueCert } from "../../lib/pki";
import { HostStep, makePlan } from "../../lib/steps";
import { ArgvSampler, secretNeedles } from "./argv-sampler";
import { CLUSTER_SPEC, labCluster, LabCluster } from "./cluster";
import { describeFailures, executePlan, PlanRun } from "./executor";
import { Lab, LabHostSpec } from "./lab";

/**
 * Issue 3 on real machines: the K3sHaCluster host steps (3 etcd members, 2 K3s servers, 1 agent, etcd from the
 * Debian package) provisioned over SSH on booted Debian 12 systemd hosts, then idempotence, faults, security and
 * uninstall. The K3s binary cannot be downloaded here: `k3s-install` and `k3s-start` are not run (README, limits).
 */
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(180_000);

let lab: Lab | undefined;
let c: LabCluster;
let first: PlanRun;
let sampler: ArgvSampler | undefined;
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};

const MEMBERS = ["etcd-1", "etcd-2", "etcd-3"];
const SERVERS = ["server-1", "server-2"];
const ALL = [...MEMBERS, ...SERVERS, "agent-1"];
const ETCD_UNITS = [ETCD_UNIT, "edgecloud-etcd-snapshot.timer", "edgecloud-etcd-maintain.timer"];

/** etcdctl as a K3s server would connect: the endpoints and cert files its config.yaml names. */
const k3sEtcdctl = `ETCDCTL_API=3 etcdctl --endpoints=$(awk '/^datastore-endpoint:/ {print $2}' ${K3S_CONFIG_FILE}) \\
  --cacert=${K3S_DATASTORE_FILES.ca} --cert=${K3S_DATASTORE_FILES.cert} --key=${K3S_DATASTORE_FILES.key}`;

const provision = (opts: Parameters<typeof executePlan>[2] = {}): Promise<PlanRun> =>
  executePlan(the(), c.plan, { only: c.runnable, ...opts });

/** `member list` on etcd-1 as rows {id, status, name, peer}. */
async function members(): Promise<{ id: string; status: string; name: string; peer: string }[]> {
  const out = await the().sh("etcd-1", "edgecloud-etcdctl member list");
  return out
    .trim()
    .split("\n")
    .map((l) => l.split(", "))
    .map(([id, status, name, peer]) => ({ id, status, name, peer }));
}

async function healthyMembers(from = "server-1"): Promise<number> {
  const r = await the().exec(from, `${k3sEtcdctl} endpoint health 2>&1 || true`);
  return (r.stdout.match(/ is healthy/g) ?? []).length;
}

/** Waits until `check` holds (etcd settles asynchronously after a start). */
async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * etcd-3 is left as a fresh `apt install etcd-server` leaves a Debian host: the distro's plaintext etcd running.
 * etcd-1 and server-1 run firewalld and etcd-2 runs ufw from boot, enabled as an operator would (Debian's profile
 * says "no firewall", so only run-time detection opens their ports): a port the library forgets stays closed.
 */
const MACHINES: Readonly<Record<string, Partial<LabHostSpec>>> = {
  "etcd-1": { firewall: "firewalld" },
  "etcd-2": { firewall: "ufw" },
  "etcd-3": { distroEtcdRunning: true },
  "server-1": { firewall: "firewalld" },
};

/** Whether `from` can open a TCP connection to `to`:`port` (3 s). */
async function connects(from: string, to: string, port: number): Promise<boolean> {
  const r = await the().exec(
    from,
    `timeout 3 bash -c 'exec 3<>/dev/tcp/${to}/${port}' 2>/dev/null && echo open || echo closed`,
  );
  return r.stdout.trim() === "open";
}

beforeAll(async () => {
  c = await labCluster({ machines: MACHINES });
  lab = await Lab.start({ hosts: c.labHosts, log });
  expect(await the().sh("etcd-3", "systemctl is-active etcd.service; curl -s http://127.0.0.1:2379/version")).toMatch(
    /^active\n\{"etcdserver":"3\.4/,
  );
  sampler = new ArgvSampler(the(), 50).start();
  first = await provision();
  log(`provisioned in ${(first.wallMs / 1000).toFixed(1)} s`);
}, 20 * 60_000);

afterAll(async () => {
  sampler?.stop();
  await lab?.stop(log);
});

describe("1. GIVEN the cluster hosts provisioned by the K3sHaCluster steps", () => {
  test("THEN every step up to the K3s binary succeeded", () => {
    expect(describeFailures(first)).toBe("no failures");
    const ran = new Set(first.steps.map((s) => s.id));
    expect([...ran].sort()).toEqual(
      c.plan.steps
        .filter(c.runnable)
        .map((s) => s.id)
        .sort(),
    );
    expect(
      c.plan.steps
        .filter((s) => !ran.has(s.id))
        .map((s) => s.name)
        .sort(),
    ).toEqual(
      [
        ...Array(6)
          .fill(0)
          .map((_, i) => (i < 3 ? "k3s-install" : "k3s-start")),
        "k3s-nodes-ready",
      ].sort(),
    );
    for (const h of ALL) expect(first.get(`${h}/preflight`).ok).toBe(true);
  });

  test("THEN the members behind firewalld (etcd-1) and ufw (etcd-2) are reachable exactly as the library opened them: 2379 from members and servers, 2380 from members only, nothing from the agent", async () => {
    expect((await the().sh("etcd-1", "firewall-cmd --state")).trim()).toBe("running");
    expect((await the().sh("etcd-2", "ufw status | head -n 1")).trim()).toBe("Status: active");
    const ip = (h: string) => the().host(h).address;
    const rich = (src: string, port: number) =>
      `rule family="ipv4" source address="${ip(src)}" port port="${port}" protocol="tcp" accept`;
    const want = [...[...MEMBERS, ...SERVERS].map((h) => rich(h, 2379)), ...MEMBERS.map((h) => rich(h, 2380))].sort();
    for (const scope of ["--permanent ", ""]) {
      const got = (await the().sh("etcd-1", `firewall-cmd ${scope}--zone=public --list-rich-rules`))
        .trim()
        .split("\n")
        .sort();
      expect(got).toEqual(want);
    }
    const ufw = (await the().sh("etcd-2", "ufw show added")).trim().split("\n").slice(1).sort();
    expect(ufw).toEqual(
      [
        "ufw allow 22/tcp", // the lab's own SSH rule
        ...[...MEMBERS, ...SERVERS].map((h) => `ufw allow from ${ip(h)} to any port 2379 proto tcp`),
        ...MEMBERS.map((h) => `ufw allow from ${ip(h)} to any port 2380 proto tcp`),
      ].sort(),
    );
    // the firewalls filter for real: what was not opened to a host is closed to it
    for (const m of ["etcd-1", "etcd-2"]) {
      expect(`${m}: ${await connects("server-2", ip(m), 2379)}`).toBe(`${m}: true`);
      expect(`${m}: ${await connects("etcd-3", ip(m), 2380)}`).toBe(`${m}: true`);
      expect(`${m} peer port from a server: ${await connects("server-2", ip(m), 2380)}`).toBe(
        `${m} peer port from a server: false`,
      );
      expect(`${m} from the agent: ${await connects("agent-1", ip(m), 2379)}`).toBe(`${m} from the agent: false`);
    }
    // etcd-3 runs no firewall: the agent reaches it (the contrast that shows the refusals above are the firewalls')
    expect(await connects("agent-1", ip("etcd-3"), 2379)).toBe(true);
  });

  test("THEN server-1's firewalld (Debian: the OS profile says none) holds K3s's ports and trusts the pod and service networks, permanent and running", async () => {
    for (const scope of ["--permanent ", ""]) {
      // the zone named: with a trusted source and no interface bound, firewall-cmd warns on stdout about the default zone
      const ports = (await the().sh("server-1", `firewall-cmd ${scope}--zone=public --list-ports`))
        .trim()
        .split(/\s+/)
        .sort();
      expect(ports).toEqual(["10250/tcp", "6443/tcp", "8472/udp"]);
      const trusted = (await the().sh("server-1", `firewall-cmd ${scope}--zone=trusted --list-sources`)).trim();
      expect(trusted.split(/\s+/).sort()).toEqual(["10.42.0.0/16", "10.43.0.0/16"]);
    }
  });

  test("THEN etcd comes from the Debian package and the distribution's plaintext etcd is masked and gone", async () => {
    for (const m of MEMBERS) {
      const out = await the().sh(
        m,
        `dpkg-query -W -f='\${Status} \${Version}\\n' etcd-server etcd-client
systemctl is-enabled etcd.service || true
test -e /var/lib/etcd/default && echo default-data || echo no-default-data
if curl -fs --max-time 3 http://127.0.0.1:2379/version | grep -q etcdserver; then echo plaintext-etcd; else echo no-plaintext; fi`,
      );
      expect(out.split("\n").slice(0, 5)).toEqual([
        expect.stringMatching(/^install ok installed 3\.4\./),
        expect.stringMatching(/^install ok installed 3\.4\./),
        "masked",
        "no-default-data",
        "no-plaintext",
      ]);
    }
  });

  test("THEN the member units are enabled and active and the cluster lists exactly the 3 members, started", async () => {
    for (const m of MEMBERS) {
      const out = await the().sh(
        m,
        ETCD_UNITS.map((u) => `systemctl is-enabled ${u}; systemctl is-active ${u}`).join("\n"),
      );
      expect(out.trim().split("\n")).toEqual(
        Array(6)
          .fill(0)
          .map((_, i) => (i % 2 ? "active" : "enabled")),
      );
    }
    const list = await members();
    expect(list.map((r) => [r.name, r.status, r.peer]).sort()).toEqual(
      MEMBERS.map((m, i) => [m, "started", `https://10.213.0.${11 + i}:2380`]),
    );
  });

  test("THEN etcdctl endpoint health over TLS is healthy on all 3 members with the client cert a K3s server gets", async () => {
    for (const s of SERVERS) {
      const out = await the().sh(s, `${k3sEtcdctl} endpoint health 2>&1`);
      expect(out.match(/ is healthy: successfully committed proposal/g)).toHaveLength(3);
    }
  });

  test("THEN plaintext, TLS without a client certificate and a certificate from a foreign CA are refused", async () => {
    const foreignCa = await createCa("foreign-ca", 30);
    const foreign = await issueCert(foreignCa, { commonName: "k3s-server-1", usages: ["client"], validityDays: 30 });
    const put = (path: string, content: string): string =>
      `install -m 0600 /dev/null ${path}\nbase64 -d >${path} <<'EOF'\n${Buffer.from(content).toString("base64")}\nEOF`;
    await the().sh(
      "server-1",
      [
        put("/root/foreign.crt", foreign.certPem),
        put("/root/foreign.key", foreign.keyPem),
        put("/root/foreign-ca.crt", foreignCa.certPem),
      ].join("\n"),
    );
    const ep = "https://10.213.0.11:2379";
    const probe = async (script: string): Promise<{ code: number | null; out: string }> => {
      const r = await the().exec("server-1", script);
      return { code: r.code, out: r.stdout + r.stderr };
    };
    const ca = K3S_DATASTORE_FILES.ca;
    const plaintext = await probe("curl -fsS --max-time 5 http://10.213.0.11:2379/health");
    expect(plaintext.code).not.toBe(0);
    expect(plaintext.out).not.toContain('"health"');
    const plainEtcdctl = await probe(
      "ETCDCTL_API=3 etcdctl --endpoints=http://10.213.0.11:2379 --dial-timeout=3s endpoint health",
    );
    expect(plainEtcdctl.code).not.toBe(0);
    const noCert = await probe(`curl -sS --max-time 5 --cacert ${ca} ${ep}/health`);
    expect(noCert.code).not.toBe(0);
    expect(noCert.out).not.toContain('"health"');
    const foreignCert = await probe(
      `curl -sS --max-time 5 --cacert ${ca} --cert /root/foreign.crt --key /root/foreign.key ${ep}/health`,
    );
    expect(foreignCert.code).not.toBe(0);
    expect(foreignCert.out).not.toContain('"health"');
    const foreignEtcdctl = await probe(
      `ETCDCTL_API=3 etcdctl --endpoints=${ep} --dial-timeout=3s --command-timeout=5s --cacert=${ca} --cert=/root/foreign.crt --key=/root/foreign.key put /lab/foreign x`,
    );
    expect(foreignEtcdctl.code).not.toBe(0);
    // and the servers do not trust an etcd presenting a certificate from another CA
    const wrongCa = await probe(
      `curl -sS --max-time 5 --cacert /root/foreign-ca.crt --cert ${K3S_DATASTORE_FILES.cert} --key ${K3S_DATASTORE_FILES.key} ${ep}/health`,
    );
    expect(wrongCa.code).not.toBe(0);
    // the real client cert works against the same endpoint (the refusals above are about the credentials)
    const good = await probe(
      `curl -sS --max-time 5 --cacert ${ca} --cert ${K3S_DATASTORE_FILES.cert} --key ${K3S_DATASTORE_FILES.key} ${ep}/health`,
    );
    expect(good.out).toContain('"health":"true"');
    await the().sh("server-1", "rm -f /root/foreign.crt /root/foreign.key /root/foreign-ca.crt");
  });

  // The edgecloud-etcdctl wrapper's member endpoints are only a default: a caller's --endpoints replaces them
  // (etcdctl would append, and a snapshot must go to one node).
  test("THEN the scheduled snapshot service, started by hand, saves a snapshot on every member", async () => {
    for (const m of MEMBERS) {
      const r = await the().exec(m, "systemctl start edgecloud-etcd-snapshot.service && ls /var/backups/etcd");
      expect(`${m}: ${r.code} ${r.stdout.trim()}`).toMatch(new RegExp(`^${m}: 0 snapshot-\\d{8}T\\d{6}Z\\.db$`));
    }
  });
});

describe("2. GIVEN each K3s server's config.yaml", () => {
  test("THEN etcdctl with exactly its datastore endpoint and cert files writes and reads a key", async () => {
    for (const s of SERVERS) {
      const cfg = parse(await the().sh(s, `cat ${K3S_CONFIG_FILE}`)) as Record<string, string>;
      expect(cfg["datastore-endpoint"]).toBe(clusterTopology(c.props).etcdEndpoints.join(","));
      const {
        "datastore-endpoint": ep,
        "datastore-cafile": ca,
        "datastore-certfile": cert,
        "datastore-keyfile": key,
      } = cfg;
      expect([ca, cert, key]).toEqual([K3S_DATASTORE_FILES.ca, K3S_DATASTORE_FILES.cert, K3S_DATASTORE_FILES.key]);
      const etcdctl = `ETCDCTL_API=3 etcdctl --endpoints=${ep} --cacert=${ca} --cert=${cert} --key=${key}`;
      const value = `written-by-${s}-${Date.now()}`;
      const out = await the().sh(
        s,
        `${etcdctl} put /lab/wiring/${s} ${value}\n${etcdctl} get --print-value-only /lab/wiring/${s}`,
      );
      expect(out.trim().split("\n")).toEqual(["OK", value]);
    }
  });
});

/** Per host: unit start timestamps and the mtime of every file the steps place. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await Promise.all(
    ALL.map(async (h) => {
      const files = [
        ...new Set(
          c.plan.steps.filter((s) => s.host === h && c.runnable(s)).flatMap((s) => s.files.map((f) => f.path)),
        ),
      ];
      if (MEMBERS.includes(h)) files.push(ETCD_STATE_ENV_FILE);
      const units = MEMBERS.includes(h) ? ETCD_UNITS : [];
      out[h] = await the().sh(
        h,
        `${units.map((u) => `echo ${u} $(systemctl show -p ActiveEnterTimestampMonotonic -p MainPID --value ${u} | tr '\\n' ' ')`).join("\n")}
stat -c '%n %y' ${files.join(" ")}`,
      );
    }),
  );
  return out;
}

describe("3. WHEN every step runs again", () => {
  test("THEN nothing changes: no unit restarted, no file rewritten, 0 steps report a change", async () => {
    const before = await fingerprint();
    expect(before["etcd-1"]).toContain(ETCD_STATE_ENV_FILE);
    const again = await provision();
    expect(describeFailures(again)).toBe("no failures");
    expect(again.changedSteps.map((s) => `${s.id} changed=${s.changed}`)).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });
});

describe("4. Faults", () => {
  const serverSide = (s: HostStep): boolean => c.runnable(s) && SERVERS.includes(s.host);

  test("(a) one etcd member stopped while the servers' steps run: provisioning completes on quorum; back + re-run: 3 healthy, no duplicates", async () => {
    await executePlan(the(), c.plan, { mode: "delete", only: serverSide });
    expect(await the().sh("server-1", `test -e ${K3S_CONFIG_FILE} && echo present || echo absent`)).toBe("absent\n");
    let stopped = false;
    const run = await provision({
      beforeStep: async (s) => {
        if (SERVERS.includes(s.host) && s.name === "etcd-health-gate" && !stopped) {
          stopped = true;
          await the().sh("etcd-3", `systemctl stop ${ETCD_UNIT}`);
        }
      },
    });
    expect(stopped).toBe(true);
    expect(describeFailures(run)).toBe("no failures");
    expect(run.get("server-1/etcd-health-gate").stderr).toContain("members down: https://10.213.0.13:2379");
    expect(
      run.changedSteps
        .map((s) => s.id)
        .filter((id) => SERVERS.some((h) => id.startsWith(`${h}/`)))
        .sort(),
    ).toEqual(["server-1/k3s-config", "server-1/k3s-prereqs", "server-2/k3s-config", "server-2/k3s-prereqs"]);
    expect(await the().sh("etcd-3", `systemctl is-active ${ETCD_UNIT} || true`)).toBe("inactive\n");
    expect(await healthyMembers()).toBe(2);
    // the member comes back by the library's own re-run
    const back = await provision();
    expect(describeFailures(back)).toBe("no failures");
    expect(back.get("etcd-3/etcd-member").changed).toBe(1);
    expect(await eventually(healthyMembers, (n) => n === 3)).toBe(3);
    const list = await members();
    expect(list).toHaveLength(3);
    expect(new Set(list.map((m) => m.name)).size).toBe(3);
    expect(new Set(list.map((m) => m.peer)).size).toBe(3);
  });

  describe("(b) WHEN the SSH session is cut mid-script while a member applies a changed config", () => {
    // the same cluster with one setting changed: every member's environment file changes, so each must restart
    const quota = 3 * 1024 ** 3;
    let changed: LabCluster;
    let cut: PlanRun;
    let rerun: PlanRun;
    const environ = `tr '\\0' '\\n' </proc/$(systemctl show -p MainPID --value ${ETCD_UNIT})/environ | grep '^ETCD_QUOTA_BACKEND_BYTES='`;

    beforeAll(async () => {
      changed = await labCluster({
        material: c.material,
        machines: MACHINES,
        spec: { ...CLUSTER_SPEC, etcd: { ...CLUSTER_SPEC.etcd, quotaBackendBytes: quota } },
      });
      // fault injection: on etcd-3, `systemctl restart edgecloud-etcd.service` blocks, so the cut lands exactly
      // between "new environment file written" and "member restarted"
      await the().sh(
        "etcd-3",
        [
          "cat >/usr/local/sbin/systemctl <<'SHIM'",
          "#!/bin/sh",
          `if [ "$1" = restart ] && [ "$2" = ${ETCD_UNIT} ]; then echo "lab-shim: holding systemctl restart" >&2; exec sleep 3600; fi`,
          'exec /usr/bin/systemctl "$@"',
          "SHIM",
          "chmod 0755 /usr/local/sbin/systemctl",
        ].join("\n"),
      );
      try {
        cut = await executePlan(the(), changed.plan, {
          only: (s) => s.id === "etcd-3/etcd-member",
          cut: { stepId: "etcd-3/etcd-member", onOutput: /lab-shim: holding/, remote: "kill" },
        });
      } finally {
        await the().sh("etcd-3", "rm -f /usr/local/sbin/systemctl");
      }
      rerun = await executePlan(the(), changed.plan, { only: changed.runnable });
    }, 180_000);

    afterAll(async () => {
      // back to the original configuration for the tests that follow (restart etcd-3 in case it kept the old one)
      const back = await provision();
      if (!back.ok) throw new Error(describeFailures(back));
      await the().sh("etcd-3", `systemctl restart ${ETCD_UNIT}`);
      await eventually(healthyMembers, (n) => n === 3);
    }, 180_000);

    test("THEN the cut step fails without its marker, and the re-run completes with 3 healthy members", async () => {
      const r = cut.get("etcd-3/etcd-member");
      expect([r.cut, r.ok, r.changed]).toEqual([true, false, undefined]);
      expect(describeFailures(rerun)).toBe("no failures");
      expect(await eventually(healthyMembers, (n) => n === 3)).toBe(3);
      expect((await members()).map((m) => m.name).sort()).toEqual(MEMBERS);
    });

    // The cut run wrote the new environment file and died before `systemctl restart`; the member step compares
    // the files with the fingerprint etcd last started with, so the re-run restarts it.
    test("THEN every member runs the new config after the re-run", async () => {
      const running = await Promise.all(MEMBERS.map((m) => the().sh(m, environ)));
      expect(running.map((l, i) => `${MEMBERS[i]} ${l.trim()}`)).toEqual(
        MEMBERS.map((m) => `${m} ETCD_QUOTA_BACKEND_BYTES=${quota}`),
      );
    });
  });

  test("(c) 1,000 keys, then a rolling restart of the members by the library's restart path: all 1,000 read back", async () => {
    const ops = Array.from({ length: 1000 }, (_, i) => `put /lab/fault-c/${String(i).padStart(4, "0")} value-${i}`);
    const txns: string[] = [];
    for (let i = 0; i < ops.length; i += 100)
      txns.push(`${k3sEtcdctl} txn <<'EOF'\n\n${ops.slice(i, i + 100).join("\n")}\n\n\nEOF`);
    const wrote = await the().sh("server-1", txns.join("\n"));
    expect(wrote.match(/^SUCCESS$/gm)).toHaveLength(10);
    const before = await Promise.all(
      MEMBERS.map((m) => the().sh(m, `systemctl show -p ActiveEnterTimestampMonotonic --value ${ETCD_UNIT}`)),
    );
    const restart = makePlan(
      etcdRollingRestartSteps(
        c.props.hosts.filter((h) => MEMBERS.includes(h.name)),
        c.props.spec.etcd,
      ),
    );
    const r = await executePlan(the(), restart);
    expect(describeFailures(r)).toBe("no failures");
    // one member at a time
    const spans = r.steps.map((s) => [s.startMs, s.endMs]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    const after = await Promise.all(
      MEMBERS.map((m) => the().sh(m, `systemctl show -p ActiveEnterTimestampMonotonic --value ${ETCD_UNIT}`)),
    );
    MEMBERS.forEach((_, i) => expect(after[i]).not.toBe(before[i]));
    const expected = ops.map((_, i) => `value-${i}`).join("\n");
    for (const m of MEMBERS) {
      const values = await the().sh(
        "server-1",
        `ETCDCTL_API=3 etcdctl --endpoints=https://10.213.0.${11 + MEMBERS.indexOf(m)}:2379 --cacert=${K3S_DATASTORE_FILES.ca} --cert=${K3S_DATASTORE_FILES.cert} --key=${K3S_DATASTORE_FILES.key} get --prefix /lab/fault-c/ --print-value-only | grep -v '^$'`,
      );
      expect(values.trim()).toBe(expected);
    }
  });

  // A wiped member: the probe asks only the other members, finds the cluster healthy, removes the stale entry
  // (listed with client URLs: it had started before) and adds itself again, retrying while etcd settles.
  test("(d) a member that lost its data directory rejoins as a new member (the member step's rejoin path)", async () => {
    await the().sh("etcd-3", `systemctl stop ${ETCD_UNIT}\nrm -rf /var/lib/etcd/member`);
    const rerun = await provision();
    expect(describeFailures(rerun)).toBe("no failures");
    expect(rerun.get("etcd-3/etcd-member").stderr).toContain("lost its data; replacing its membership");
    expect(await eventually(healthyMembers, (n) => n === 3, 30_000)).toBe(3);
    const list = await members();
    expect(list.map((m) => [m.name, m.status]).sort()).toEqual(MEMBERS.map((m) => [m, "started"]));
  });
});

describe("5. Security on the hosts", () => {
  test("THEN no token, key or password appeared in any process's argv on any host, during or after provisioning", async () => {
    sampler!.stop();
    log(`argv sampler: ${sampler!.samples} samples, ${sampler!.count} distinct argvs`);
    expect(sampler!.samples).toBeGreaterThan(100);
    const secrets = c.plan.steps.flatMap((s) => s.files);
    const needles = [...new Set([...secretNeedles(secrets), c.material.token])];
    expect(secretNeedles(secrets)).toContain(c.material.token);
    expect(needles.length).toBeGreaterThan(20);
    expect(sampler!.find(needles)).toEqual([]);
    // what `ps -eo args` shows on every host now
    for (const h of ALL) {
      const ps = await the().sh(h, "ps -eo args");
      expect(needles.filter((n) => ps.includes(n))).toEqual([]);
      expect(ps).toMatch(/sshd/);
    }
  });

  test("THEN every secret file is mode 0600 with its declared owner (root unless a daemon user must read it)", async () => {
    const owners: string[] = [];
    for (const h of ALL) {
      const secretFiles = c.plan.steps
        .filter((s) => s.host === h && c.runnable(s))
        .flatMap((s) => s.files.filter((f) => f.secret));
      if (!secretFiles.length) continue;
      const out = await the().sh(h, `stat -c '%n %a %U:%G' ${secretFiles.map((f) => f.path).join(" ")}`);
      const got = out.trim().split("\n");
      expect(got).toEqual(secretFiles.map((f) => `${f.path} 600 ${f.owner ?? "root:root"}`));
      owners.push(...got.filter((l) => !l.endsWith(" root:root")).map((l) => `${h}:${l}`));
    }
    // the only non-root owner: the keys etcd itself reads (it runs as User=etcd)
    expect(owners.every((l) => / 600 etcd:etcd$/.test(l) && /\/(server|peer)\.key /.test(l))).toBe(true);
    log(`secret files not owned by root: ${owners.join(", ")}`);
  });
});

describe("4(e). WHEN a member's firewall lacks the etcd ports (what the library did before the etcd-firewall step)", () => {
  test("THEN the servers cannot reach etcd-1 and etcd-2 behind firewalld and ufw; the library's re-run opens them again and all 3 are healthy", async () => {
    const behindFirewall = ["etcd-1", "etcd-2"];
    const closed = await executePlan(the(), c.plan, {
      mode: "delete",
      only: (s) => s.name === "etcd-firewall" && behindFirewall.includes(s.host),
    });
    expect(describeFailures(closed)).toBe("no failures");
    expect(closed.changedSteps.map((s) => s.id).sort()).toEqual(["etcd-1/etcd-firewall", "etcd-2/etcd-firewall"]);
    // established connections outlive a rule change (conntrack): restart the two so every peer and client dials anew
    for (const m of behindFirewall) await the().sh(m, `systemctl restart --no-block ${ETCD_UNIT}`);
    const health = async () => (await the().exec("server-1", `${k3sEtcdctl} endpoint health 2>&1 || true`)).stdout;
    const down = await eventually(
      health,
      (out) => behindFirewall.every((m) => new RegExp(`${the().host(m).address}:2379 is unhealthy`).test(out)),
      60_000,
    );
    log(`without the etcd-firewall rules, from server-1:\n${down.trim()}`);
    for (const m of behindFirewall) expect(down).toMatch(new RegExp(`${the().host(m).address}:2379 is unhealthy`));
    expect((down.match(/ is healthy/g) ?? []).length).toBeLessThan(2); // no quorum of endpoints for K3s
    const back = await provision();
    expect(describeFailures(back)).toBe("no failures");
    expect(back.get("etcd-1/etcd-firewall").changed).toBeGreaterThan(0);
    expect(back.get("etcd-2/etcd-firewall").changed).toBeGreaterThan(0);
    expect(await eventually(healthyMembers, (n) => n === 3)).toBe(3);
  }, 300_000);
});

describe("7. WHEN the cluster is uninstalled by the delete steps", () => {
  test("THEN no etcd data directory, unit, config, package or process is left on any host", async () => {
    const del = await executePlan(the(), c.plan, { mode: "delete" });
    expect(describeFailures(del)).toBe("no failures");
    const paths = [
      "/etc/etcd/pki",
      "/etc/etcd/edgecloud-etcd.env",
      ETCD_STATE_ENV_FILE,
      "/usr/local/sbin/edgecloud-etcdctl",
      "/usr/local/lib/edgecloud/etcd-snapshot.sh",
      "/usr/local/lib/edgecloud/etcd-maintain.sh",
      "/var/lib/edgecloud/applied",
      "/etc/sysctl.d/90-edgecloud-k3s.conf",
      "/etc/modules-load.d/edgecloud-k3s.conf",
      "/usr/local/bin/k3s",
    ];
    // etcd-server/etcd-client and /var/lib/etcd (the etcd user's home) are part of the lab image on every host:
    // only the members must lose them
    const memberOnly = [
      "if [ -e /var/lib/etcd ]; then echo 'left: /var/lib/etcd'; fi",
      "if dpkg-query -W -f='${Status}\\n' etcd-server 2>/dev/null | grep -q 'install ok installed'; then echo 'left: package etcd-server'; fi",
    ].join("\n");
    const check = [
      `for p in ${paths.join(" ")}; do if [ -e "$p" ]; then echo "left: $p"; fi; done`,
      "if [ -d /etc/rancher ]; then find /etc/rancher -type f | sed 's/^/left: /'; fi",
      // the directories the steps created go too, once empty (snapshots in /var/backups/etcd stay on purpose)
      'for d in /etc/etcd /usr/local/lib/edgecloud /etc/rancher /var/lib/edgecloud; do if [ -d $d ]; then echo "left: directory $d"; fi; done',
      "ls /etc/systemd/system | grep -i -e edgecloud -e '^k3s' | sed 's/^/unit file: /' || true",
      // a unit whose file is gone but which systemd still lists (a failed run, a reference) is reported below
      `systemctl list-units --all --no-legend --plain 'edgecloud*' | awk '$2 == "loaded" { print "unit: " $0 }'`,
      "pgrep -a etcd | sed 's/^/process: /' || true",
    ].join("\n");
    const notes = [
      'if [ -e /var/backups/etcd ]; then echo "snapshots kept in /var/backups/etcd"; fi',
      'systemctl list-units --all --no-legend --plain \'edgecloud*\' | awk \'$2 != "loaded" { print "unit record " $1 " (" $2 " " $3 ")" }\'',
    ].join("\n");
    const reported: string[] = [];
    for (const h of ALL) {
      const out = await the().sh(h, MEMBERS.includes(h) ? `${check}\n${memberOnly}` : check);
      expect(`${h}: ${out.trim()}`).toBe(`${h}: `);
      const n = (await the().sh(h, notes)).trim();
      if (n) reported.push(`${h}: ${n.split("\n").join(", ")}`);
    }
    // the firewalls hold nothing of the library's any more (the lab's own SSH rule stays)
    expect(
      (
        await the().sh(
          "etcd-1",
          "firewall-cmd --zone=public --list-rich-rules; firewall-cmd --permanent --zone=public --list-rich-rules",
        )
      ).trim(),
    ).toBe("");
    expect((await the().sh("etcd-2", "ufw show added")).trim().split("\n").slice(1)).toEqual(["ufw allow 22/tcp"]);
    expect(
      (
        await the().sh(
          "server-1",
          "firewall-cmd --permanent --zone=public --list-ports; firewall-cmd --zone=public --list-ports; firewall-cmd --permanent --zone=trusted --list-sources",
        )
      ).trim(),
    ).toBe("");
    log(`uninstall leaves (reported, not failed on): ${reported.join("; ") || "nothing"}`);
    const again = await executePlan(the(), c.plan, { mode: "delete" });
    expect(again.changedSteps.map((s) => s.id)).toEqual([]);
  });
});
