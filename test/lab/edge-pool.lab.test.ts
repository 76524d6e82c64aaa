import { spawnSync } from "child_process";
import { createHash, createPrivateKey } from "crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "fs";
import { join } from "path";
import { EDGE_STEPS } from "../../components/kubeedge-cloud/edge-node-steps";
import { edgePoolSteps, JoinBundle, renderJoinBundle } from "../../components/kubeedge-cloud/edge-pool";
import { mintKubeEdgeJoinToken } from "../../components/kubeedge-cloud/join-token";
import { cniTarball } from "../../components/kubeedge-cloud/runtime";
import type { KubeEdgeCloudProps } from "../../components/kubeedge-cloud/spec";
import { checkKubeEdgeCloud } from "../../components/kubeedge-cloud/validate";
import { createCa, issueCert } from "../../lib/pki/x509";
import { renderStepBundle } from "../../lib/steps/bundle";
import { IssueCollector } from "../../lib/validation/issues";
import { ArgvSampler } from "./argv-sampler";
import { Lab, LAB_SUBNET, LabFile, LabHostSpec } from "./lab";
import { ensureRootfs } from "./rootfs";

/**
 * Issue 18 item 3 in the lab: edge machines that run their pool's join bundle THEMSELVES at first boot. Each pool host
 * boots with a cloud-init NoCloud seed in its root filesystem (/var/lib/cloud/seed/nocloud/{meta-data,user-data}, the
 * user-data being the pool's bundle exactly as rendered for Pulumi's `joinBundles` and synth's
 * `edge-pools/<pool>/user-data`); Debian 12's real cloud-init (22.4.2, in the lab image) finds the seed, writes the
 * script and runs it from `runcmd`. Nothing of the program connects to a pool host: every assertion reads the host's
 * root filesystem (its overlay's upper layer), its journal (`journalctl -D`) or the runner's /proc from outside.
 *
 * What cannot be real here (test/lab/README.md "Limits"): cloudcore, edgecore and keadm cannot be built (the Go proxy
 * refuses github.com/kubeedge/api and github.com/kubeedge/beehive, nested modules missing from kubeedge@v1.23.1's zip),
 * so the bundle runs as far as the parts that need neither: the credential's expiry check, node name and address,
 * keadm's existing-node query, the pre-flight, the container runtime (Debian's containerd) and the CNI plugins; it then
 * stops in the install step with the install step's own message (the pre-staged keadm tarball is missing). The
 * existing-node query goes to a STAND-IN: Debian's nginx on the cloudcore host, TLS on cloudcore's https port 10002,
 * answering 404 to every path — what cloudcore answers GET /node/<name> for a name it has no Node for
 * (kubeedge/kubeedge v1.23.1 cloud/pkg/cloudhub/servers/httpserver/node/checknode.go). It issues no certificate,
 * checks no token, and nothing here is reported as joined.
 */

const POOL_HOSTS = Number(process.env.EDGECLOUD_LAB_POOL_HOSTS ?? 20);
const CLOUDCORE = "cloudcore";
const CLOUDCORE_IP = `${LAB_SUBNET}.10`;
const EXPIRED = "pool-expired";
const POOL = "lab-pool";
const PRESTAGED = "/opt/edgecloud-lab/kubeedge";
const SCRIPT = "/var/lib/edgecloud/edge-join.sh";
const poolHostNames = Array.from({ length: POOL_HOSTS }, (_, i) => `pool-${String(i + 1).padStart(2, "0")}`);
/** Hosts that run the bundle a second time (from outside, as runcmd starts it) for the idempotence check. */
const SECOND_RUN = poolHostNames.slice(0, 3);

const log = (m: string) => process.stderr.write(`[edge-pool lab] ${m}\n`);
const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
/** The 76-character base64 lines a secret is carried in (as the bundle and its user-data wrap it). */
const b64chunks = (s: string) => {
  const b = Buffer.from(s, "utf8").toString("base64");
  const out: string[] = [];
  for (let i = 0; i + 76 <= b.length; i += 76) out.push(b.slice(i, i + 76));
  return out;
};

function poolProps(): KubeEdgeCloudProps {
  const issues = new IssueCollector();
  const props = checkKubeEdgeCloud(
    {
      hosts: [
        {
          name: CLOUDCORE,
          address: CLOUDCORE_IP,
          ssh: { privateKeyPath: "/dev/null" },
          os: "debian-12",
          arch: "amd64",
          roles: ["server"],
        },
      ],
      spec: {
        kubernetesVersion: "v1.31.4+k3s1",
        cloudHub: { advertiseAddress: [CLOUDCORE_IP] },
        // lab: cgroupfs (no systemd delegation in an nspawn host), the air-gap install (the lab is offline)
        edge: { cgroupDriver: "cgroupfs", install: { kind: "prestaged", dir: PRESTAGED } },
        edgePools: [{ name: POOL, os: "debian-12", arch: "amd64", labels: { site: "lab" } }],
      },
    },
    issues,
  );
  issues.throwIfAny("lab pool environment");
  return props!;
}

/** A host's NoCloud seed and the lab-only files around it. */
function seedFiles(host: string, instanceId: string, bundle: JoinBundle, cni: Buffer): LabFile[] {
  const tgz = cniTarball("amd64");
  return [
    {
      path: "/var/lib/cloud/seed/nocloud/meta-data",
      content: `instance-id: ${instanceId}\nlocal-hostname: ${host}\n`,
      mode: 0o644,
    },
    { path: "/var/lib/cloud/seed/nocloud/user-data", content: bundle.userData, mode: 0o600 },
    // lab-only: the host's address is configured from outside (its veth in its netns), as a provisioning system's
    // static configuration would be (cloud-init would otherwise render DHCP for eth0); and the lab pins each host's
    // SSH host key in its known_hosts, which cloud-init's ssh module would delete and regenerate at first boot
    // (seen: the lab's readiness probe then failed host key checking on 2 of 4 hosts)
    {
      path: "/etc/cloud/cloud.cfg.d/99-edgecloud-lab.cfg",
      content: "network: { config: disabled }\nssh_deletekeys: false\nssh_genkeytypes: []\n",
      mode: 0o644,
    },
    // lab-only: a persistent journal, so that it can be read from outside after the run
    {
      path: "/etc/systemd/journald.conf.d/edgecloud-lab.conf",
      content: "[Journal]\nStorage=persistent\n",
      mode: 0o644,
    },
    // lab-only: /proc/sys/net writable from the start of boot (the runtime step sets ip_forward and
    // bridge-nf-call-iptables, as on a real machine); `kubeletHost` makes it so only once the boot is over
    {
      path: "/etc/systemd/system/edgecloud-lab-sysctl-net.service",
      content: [
        "[Unit]",
        "Description=edgecloud lab: /proc/sys/net writable (the host's own network namespace)",
        "DefaultDependencies=no",
        "Before=sysinit.target cloud-init-local.service",
        "[Service]",
        "Type=oneshot",
        "ExecStart=/bin/mount --bind /proc/sys/net /proc/sys/net",
        "ExecStart=/bin/mount -o remount,bind,rw /proc/sys/net",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
      ].join("\n"),
      mode: 0o644,
    },
    {
      path: "/etc/systemd/system/sysinit.target.wants/edgecloud-lab-sysctl-net.service",
      target: "/etc/systemd/system/edgecloud-lab-sysctl-net.service",
    },
    // the air-gap install's CNI tarball, as the machine image would carry it: Debian's containernetworking-plugins
    // 1.1.1 (the version the library pins), with its .sha256 (nodes.lab.test.ts does the same)
    { path: `${PRESTAGED}/${tgz}`, content: cni, mode: 0o644 },
    { path: `${PRESTAGED}/${tgz}.sha256`, content: `${sha(cni)}  ${tgz}\n`, mode: 0o644 },
  ];
}

/** The stand-in's files: nginx on 10002 (TLS) answering 404 to everything, enabled at boot. */
function standInFiles(certPem: string, keyPem: string): LabFile[] {
  return [
    { path: "/etc/nginx/cloudcore-stand-in.crt", content: certPem, mode: 0o644 },
    { path: "/etc/nginx/cloudcore-stand-in.key", content: keyPem, mode: 0o600 },
    {
      path: "/etc/nginx/conf.d/cloudcore-stand-in.conf",
      content: [
        "# STAND-IN for cloudcore's https port: only GET /node/<name> → 404 (a name cloudcore has no Node for).",
        "server {",
        "  listen 10002 ssl;",
        "  ssl_certificate /etc/nginx/cloudcore-stand-in.crt;",
        "  ssl_certificate_key /etc/nginx/cloudcore-stand-in.key;",
        "  access_log /var/log/nginx/cloudcore-stand-in.log;",
        "  location / { return 404; }",
        "}",
        "",
      ].join("\n"),
      mode: 0o644,
    },
    { path: "/etc/systemd/system/multi-user.target.wants/nginx.service", target: "/lib/systemd/system/nginx.service" },
  ];
}

interface JournalEntry {
  readonly t: number;
  readonly unit: string;
  readonly message: string;
}

/** A host's persistent journal, read on the runner (journalctl -D on the host's root filesystem). */
function journal(root: string): JournalEntry[] {
  const r = spawnSync("journalctl", ["-D", join(root, "var/log/journal"), "-o", "json", "--no-pager", "--all"], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`journalctl -D ${root}/var/log/journal: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      const msg = e.MESSAGE;
      return {
        t: Number(e.__REALTIME_TIMESTAMP) / 1000,
        unit: String(e._SYSTEMD_UNIT ?? e.UNIT ?? ""),
        message: Array.isArray(msg) ? Buffer.from(msg as number[]).toString("utf8") : String(msg ?? ""),
      };
    });
}

/** Every file of the host's upper layer (what the host wrote or changed), with mode and content hash. */
function upperFiles(upper: string): Map<string, { mode: number; mtimeMs: number; sha: string; size: number }> {
  const out = new Map<string, { mode: number; mtimeMs: number; sha: string; size: number }>();
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile())
        out.set(p.slice(upper.length), {
          mode: st.mode & 0o7777,
          mtimeMs: st.mtimeMs,
          size: st.size,
          sha: st.size < 64 * 1024 * 1024 ? sha(readFileSync(p)) : "large",
        });
    }
  };
  walk(upper);
  return out;
}

/** The PID (runner-side) of the host's process whose argv starts with `prefix`. */
function pidOf(pidNs: string, prefix: string): number | undefined {
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) !== pidNs) continue;
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0/g, " ").startsWith(prefix)) return Number(e);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

const bundleLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("edgecloud-join: ") || l.startsWith("edgecloud: "))
    .map((l) => l.trim());

describe(`edge pool: ${POOL_HOSTS} machines run the pool's join bundle themselves at first boot (cloud-init NoCloud)`, () => {
  let lab: Lab | undefined;
  let sampler: ArgvSampler | undefined;
  let props: KubeEdgeCloudProps;
  let bundle: JoinBundle;
  let expired: JoinBundle;
  let token: string;
  let needles: string[];
  /** For files and logs: the credentials and every 16th base64 line of each source (a copy holds all of them). */
  let fileNeedles: string[];
  let wallMs = 0;
  const started = Date.now();

  beforeAll(async () => {
    props = poolProps();
    const pool = props.spec.edgePools[0]!;
    // cloudcore's CA as kubeedge/casecret holds it (a fresh ECDSA P-256 CA; the key as SEC1 DER), and the pool's
    // credential minted from it by the library, as EdgeJoinCredential does under Pulumi
    const ca = await createCa("KubeEdge");
    const caDer = Buffer.from(ca.certPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64").toString("base64");
    const caKey = createPrivateKey(ca.keyPem).export({ format: "der", type: "sec1" }).toString("base64");
    const notAfter = new Date(Date.now() + 2 * 3600_000);
    token = mintKubeEdgeJoinToken(caDer, caKey, notAfter.getTime() / 1000);
    bundle = renderJoinBundle(props, pool, token, new Date(Math.floor(notAfter.getTime() / 1000) * 1000));
    const pastToken = mintKubeEdgeJoinToken(caDer, caKey, Date.now() / 1000 - 600);
    expired = renderJoinBundle(props, pool, pastToken, new Date(Math.floor(Date.now() / 1000 - 600) * 1000));
    const joinStep = edgePoolSteps(props, pool, token).find((s) => s.name === EDGE_STEPS.join)!;
    const template = joinStep.files.find((f) => f.secret)!;
    needles = [
      token,
      pastToken,
      ...b64chunks(template.content),
      ...b64chunks(renderStepBundle(joinStep)),
      ...b64chunks(bundle.script),
      ...b64chunks(expired.script),
    ];
    const sample = (xs: string[]) => xs.filter((_, i) => i % 16 === 0 || i === xs.length - 1);
    fileNeedles = [
      token,
      pastToken,
      ...sample(b64chunks(template.content)),
      ...sample(b64chunks(renderStepBundle(joinStep))),
      ...sample(b64chunks(bundle.script)),
      ...sample(b64chunks(expired.script)),
    ];
    const server = await issueCert(ca, { commonName: "cloudcore-stand-in", usages: ["server"], ips: [CLOUDCORE_IP] });
    const rootfs = await ensureRootfs(log);
    const cni = spawnSync("tar", ["-czf", "-", "-C", join(rootfs.dir, "usr/lib/cni"), "."], {
      maxBuffer: 256 * 1024 * 1024,
    });
    if (cni.status !== 0) throw new Error(`packing the CNI plugins: ${cni.stderr}`);
    const run = Date.now().toString(36);
    const hosts: LabHostSpec[] = [
      { name: CLOUDCORE, address: CLOUDCORE_IP, files: standInFiles(server.certPem, server.keyPem) },
      ...[...poolHostNames, EXPIRED].map((name) => ({
        name,
        kubeletHost: true,
        files: seedFiles(name, `${name}-${run}`, name === EXPIRED ? expired : bundle, cni.stdout),
      })),
    ];
    // the argv of everything the hosts run while they boot (the bundle runs before Lab.start returns)
    sampler = new ArgvSampler(undefined).start();
    const t0 = Date.now();
    lab = await Lab.start({ hosts, log, bootFirst: [CLOUDCORE], bootTimeoutMs: 600_000 });
    sampler.attribute(lab);
    wallMs = Date.now() - t0;
    log(`${hosts.length} hosts booted and their first boot (cloud-init) done in ${(wallMs / 1000).toFixed(1)} s`);
  }, 1_200_000);

  afterAll(async () => {
    sampler?.stop();
    await lab?.stop(log);
    log(`total wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 120_000);

  const root = (h: string) => lab!.host(h).root;
  const upper = (h: string) => join(lab!.dir, "hosts", h, "upper");
  const output = (h: string) => {
    const f = join(root(h), "var/log/cloud-init-output.log");
    return existsSync(f) ? readFileSync(f, "utf8") : "";
  };

  test("every pool host ran the bundle by itself: cloud-init (NoCloud seed) wrote the script and ran it from runcmd; it ran the pre-flight and the runtime and stopped in the install step, naming the missing keadm tarball", () => {
    const missing = `missing pre-staged ${PRESTAGED}/keadm-${props.spec.version}-linux-amd64.tar.gz`;
    const rows = poolHostNames.map((h) => {
      const r = root(h);
      const iid = readdirSync(join(r, "var/lib/cloud/instances"));
      const lines = bundleLines(output(h));
      return {
        host: h,
        datasource: readFileSync(join(r, "var/lib/cloud/instances", iid[0]!, "datasource"), "utf8")
          .trim()
          .split(/[: ]/)[0],
        instances: iid,
        runcmd: readFileSync(join(r, "var/lib/cloud/instances", iid[0]!, "scripts/runcmd"), "utf8").includes(
          `bash ${SCRIPT}`,
        ),
        scriptMode: (statSync(join(r, SCRIPT)).mode & 0o777).toString(8),
        lines,
        // written by the runtime step (the host's upper layer), not the package's
        containerdConfig: existsSync(join(upper(h), "etc/containerd/config.toml")),
        cni: readFileSync(join(r, "opt/cni/bin/.edgecloud-cni-version"), "utf8").trim(),
        edgecore:
          existsSync(join(r, "usr/local/bin/edgecore")) || existsSync(join(r, "etc/kubeedge/config/edgecore.yaml")),
      };
    });
    for (const row of rows) {
      expect(row).toEqual({
        host: row.host,
        datasource: "DataSourceNoCloud",
        instances: [expect.stringMatching(new RegExp(`^${row.host}-`))],
        runcmd: true,
        // written 0700 by write_files; still there: runcmd removes it only after a successful join
        scriptMode: "700",
        lines: [
          "edgecloud-join: kubeedge-preflight",
          "edgecloud-join: kubeedge-runtime",
          "edgecloud-join: kubeedge-install",
          `edgecloud: ${missing}`,
          "edgecloud-join: kubeedge-install failed",
        ],
        containerdConfig: true,
        cni: "v1.1.1",
        edgecore: false,
      });
    }
    // containerd, started by the runtime step, runs on every pool host
    for (const h of poolHostNames)
      expect({ h, containerd: pidOf(lab!.host(h).pidNs, "/usr/bin/containerd") !== undefined }).toEqual({
        h,
        containerd: true,
      });
    // keadm's existing-node query reached the stand-in once per host, with the host's own name
    const access = readFileSync(join(root(CLOUDCORE), "var/log/nginx/cloudcore-stand-in.log"), "utf8");
    for (const h of poolHostNames) expect(access).toMatch(new RegExp(`"GET /node/${h} HTTP/1\\.1" 404 `));
  }, 300_000);

  test("the expired bundle refuses before anything: no query to cloudcore, no step", () => {
    const lines = bundleLines(output(EXPIRED));
    expect(lines).toEqual([
      `edgecloud-join: the join credential of pool "${POOL}" expired at ${expired.notAfter}; fetch a fresh bundle (pulumi up mints one)`,
    ]);
    // nothing of the runtime step: Debian's containerd config untouched (not in the host's upper layer), no CNI
    expect(existsSync(join(upper(EXPIRED), "etc/containerd/config.toml"))).toBe(false);
    expect(existsSync(join(upper(EXPIRED), "opt/cni"))).toBe(false);
    expect(readFileSync(join(root(CLOUDCORE), "var/log/nginx/cloudcore-stand-in.log"), "utf8")).not.toContain(
      `/node/${EXPIRED} `,
    );
  }, 300_000);

  test("the program never ran anything on a pool host: no `bash -s` (how the executor runs steps over SSH); cloud-init's own processes were seen on every pool host during its first boot", () => {
    for (const h of [...poolHostNames, EXPIRED]) {
      const argv = [...sampler!.seen.get(h)!];
      expect({ h, bashS: argv.filter((a) => a === "bash -s") }).toEqual({ h, bashS: [] });
    }
    // the sampler watched each host during its first boot: it saw cloud-init's own processes there (its stages run
    // for seconds; the bundle's shorter processes can fall between two samples under load)
    const seen = (h: string, what: string) => [...sampler!.seen.get(h)!].some((a) => a.includes(what));
    expect(poolHostNames.filter((h) => !seen(h, "/usr/bin/cloud-init"))).toEqual([]);
    const seenBundle = poolHostNames.filter((h) => seen(h, `bash ${SCRIPT}`));
    log(
      `argv sampler: ${sampler!.samples} samples; cloud-init seen on ${POOL_HOSTS}/${POOL_HOSTS} pool hosts, the bundle's own process on ${seenBundle.length}/${POOL_HOSTS}`,
    );
  }, 300_000);

  test("the credential is in no argv, no log (journal, cloud-init's logs) and no world-readable file", () => {
    expect(sampler!.find(needles)).toEqual([]);
    const leaks: string[] = [];
    for (const h of [...poolHostNames, EXPIRED]) {
      const j = journal(root(h))
        .map((e) => e.message)
        .join("\n");
      const logs = [
        j,
        output(h),
        existsSync(join(root(h), "var/log/cloud-init.log"))
          ? readFileSync(join(root(h), "var/log/cloud-init.log"), "utf8")
          : "",
      ];
      for (const n of fileNeedles)
        if (logs.some((l) => l.includes(n))) leaks.push(`${h}: a log holds ${n.slice(0, 12)}…`);
      for (const [path, f] of upperFiles(upper(h))) {
        if ((f.mode & 0o004) === 0 || f.sha === "large") continue;
        const content = readFileSync(join(upper(h), path), "utf8");
        for (const n of fileNeedles)
          if (content.includes(n)) leaks.push(`${h}: ${path} (${f.mode.toString(8)}) holds ${n.slice(0, 12)}…`);
      }
    }
    expect(leaks).toEqual([]);
  }, 300_000);

  test("a second run changes nothing: same files (content, mode, mtime), same containerd process, same stop", () => {
    const skip = /^\/(var\/log|var\/lib\/cloud|run|tmp|var\/tmp|var\/cache|var\/lib\/systemd)\//;
    for (const h of SECOND_RUN) {
      const host = lab!.host(h);
      const before = new Map([...upperFiles(upper(h))].filter(([p]) => !skip.test(p)));
      const containerd = pidOf(host.pidNs, "/usr/bin/containerd");
      // started from outside the way cloud-init's runcmd starts it (into the host's namespaces: no SSH, no program)
      const r = spawnSync(
        "nsenter",
        ["-t", String(host.initPid), "-a", "--", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "bash", SCRIPT],
        { encoding: "utf8", timeout: 120_000 },
      );
      expect({ h, code: r.status, lines: bundleLines(r.stderr) }).toEqual({
        h,
        code: 1,
        lines: [
          "edgecloud-join: kubeedge-preflight",
          "edgecloud-join: kubeedge-runtime",
          "edgecloud-join: kubeedge-install",
          `edgecloud: missing pre-staged ${PRESTAGED}/keadm-${props.spec.version}-linux-amd64.tar.gz`,
          "edgecloud-join: kubeedge-install failed",
        ],
      });
      const after = new Map([...upperFiles(upper(h))].filter(([p]) => !skip.test(p)));
      expect({ h, files: [...after] }).toEqual({ h, files: [...before] });
      expect({ h, containerd: pidOf(host.pidNs, "/usr/bin/containerd") }).toEqual({ h, containerd });
    }
  }, 300_000);

  test("figures: hosts, boot-to-bundle-done seconds (min/median/max), total wall", () => {
    const secs = poolHostNames.map((h) => {
      const j = journal(root(h));
      const done = j.find((e) => e.message.includes("edgecloud-join: kubeedge-install failed"));
      expect({ h, done: done !== undefined }).toEqual({ h, done: true });
      return (done!.t - j[0]!.t) / 1000;
    });
    const sorted = [...secs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    log(
      `figures: ${POOL_HOSTS} pool hosts (+ 1 expired, + the stand-in); boot-to-bundle-done ${sorted[0]!.toFixed(1)} / ${median.toFixed(1)} / ${sorted[sorted.length - 1]!.toFixed(1)} s (min/median/max, first journal entry to the bundle's last line); lab start to every first boot done ${(wallMs / 1000).toFixed(1)} s; wall so far ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(sorted.length).toBe(POOL_HOSTS);
  }, 300_000);
});
