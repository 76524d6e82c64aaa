import { spawnSync } from "child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "fs";
import { loadavg, tmpdir } from "os";
import { join } from "path";
import { parse } from "yaml";
import { K3S_CONFIG_FILE } from "../../components/k3s-ha-cluster";
import { REGISTRY_UID } from "../../components/registry";
import { CAPABILITY_LABELS, CAPABILITY_TAINTS } from "../../lib/hosts/capabilities";
import { CONTAINERD_CERTS_DIR } from "../../lib/k3s";
import { objectsToYaml } from "../../lib/manifests/chart";
import { KubeObject } from "../../lib/manifests/kube-object";
import { RegistryProps } from "../../components/registry/spec";
import { Environment } from "../../stacks/environment";
import { environmentMaterial, EnvironmentMaterial } from "../../stacks/material";
import { SynthOutput, synthesizeWith } from "../../stacks/synth";
import { ApiServer, startApiServer } from "../engine/kube-apiserver";
import { ETCD_BINARIES, stageEtcdRelease } from "./etcd-prestaged";
import { describeFailures, executePlan } from "./executor";
import {
  hardwareLabEnvironment,
  HW_ADDRESSES,
  HW_ETCD_DIR,
  HW_GPU,
  HW_NODE_PORT,
  HW_NODES,
  HW_NOT_RUN_HERE,
  HW_RT,
  HW_RWX_CLASS,
  HW_SERVERS,
  hwAddress,
  hwRunsHere,
  withMirrorEndpoints,
} from "./hardware-env";
import { buildAndPushImages, ImageRecipe, LabImage } from "./images";
import { registryImageRecipe } from "./in-cluster-registry";
import { Lab } from "./lab";
import {
  configureK3sNodeContainerd,
  installBinary,
  k3sNodeIdentity,
  KCM_UNIT,
  KUBE_PROXY_UNIT,
  KUBELET_UNIT,
  NodeIdentity,
  put,
  routePodSubnets,
  SCHEDULER_UNIT,
  startContainerd,
  startControllers,
  startKubelet,
  startKubeProxy,
  stopUnits,
  waitKubeProxy,
} from "./nodes";
import { NOT_RUN_HERE } from "./nodes-env";
import { sleep } from "./proc";

/**
 * Issue 17 on real kubelet nodes (the real-nodes harness, nodes.ts): the library's K3s-node steps on a GPU agent, a
 * real-time + SR-IOV agent and two plain servers; kube-apiserver, controller-manager and scheduler
 * (k8s.io/kubernetes v1.36.3) on server-2; kubelet + Debian containerd on the four nodes under the names, labels
 * and taints the library's config.yaml gives them. Then:
 * 1. placement: the library's hardware manifests and the HA registry, and test workloads, bound by the real
 *    scheduler only where they belong;
 * 2. registry failover: the library's 2-replica registry (one replica per server, its NodePort on both), every
 *    node's containerd configured from the library's registries.yaml (both servers' NodePorts, in order); server-1
 *    (the first endpoint, one replica) powered off; the real-time node still pulls new images.
 *
 * Stand-ins, each named where it is made: the ReadWriteMany volume (no provisioner here: one hostPath volume, each
 * server's directory seeded with the same registry content), the images (built here from Debian binaries, see
 * images.ts), the bootstrap images (pause, registry) from a seed registry on server-2 rather than from the HA
 * registry they make, the `nvidia` containerd runtime on gpu-1 (plain runc: there is no NVIDIA toolkit here).
 */
const BIN_DIR = spawnSync("bash", [join(__dirname, "../../scripts/build-tools.sh"), "--print-bin-dir"], {
  encoding: "utf8",
}).stdout.trim();
const NEEDED_BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
  "kubectl",
  ...ETCD_BINARIES,
  "registry",
];
const missingBinaries = NEEDED_BINARIES.filter((b) => !existsSync(join(BIN_DIR, b)));
if (missingBinaries.length)
  console.warn(
    `hardware-nodes.lab.test.ts skipped: ${missingBinaries.join(", ")} not built in ${BIN_DIR}: run \`bash scripts/build-tools.sh --stage 2\`, \`--stage nodes\`, \`--stage etcd\` and \`--stage distribution\``,
  );
const suite = missingBinaries.length ? describe.skip : describe;

/** The control plane's host: a K3s server that stays up (K3s servers run the API server; K3s cannot run here). */
const CONTROL = "server-2";
const DOWN = "server-1";
const SEED_PORT = 5999;
const SEED_UNIT = "edgecloud-lab-seed-registry";
const SEED_DIR = "/var/lib/edgecloud-lab/registry-seed";
/** Each server's directory behind the registry claim's stand-in volume. */
const DATA_DIR = "/var/lib/edgecloud-lab/registry-data";
const APP_NS = "hw-lab";
const progress = (m: string): void => void process.stderr.write(`[lab hardware] ${m}\n`);
const timings: string[] = [];
const report: string[] = [];
const time = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
  const t = Date.now();
  const r = await f();
  timings.push(`${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  progress(`${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return r;
};

interface PodJson {
  metadata: { name: string; namespace: string; ownerReferences?: { kind: string; name: string }[] };
  spec: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: { key?: string; operator?: string; effect?: string }[];
  };
  status: {
    phase: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      image: string;
      ready: boolean;
      state: { waiting?: { reason?: string; message?: string }; running?: object };
    }[];
  };
}
interface EventJson {
  reason: string;
  message: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

/** Small images built here (busybox from Debian's busybox-static) with one distinct file each: distinct blobs. */
function helloRecipe(tag: string): ImageRecipe {
  return {
    name: `hello-${tag}`,
    tag: "1",
    replaces: [`hello-${tag}`],
    from: "Debian 12 busybox-static with a distinct /hello.txt",
    fill: `mkdir -p "$root/bin" "$root/tmp"
install -m 0755 /bin/busybox "$root/bin/busybox"
for a in sh sleep cat; do ln -sf busybox "$root/bin/$a"; done
echo "hello ${tag} $(date +%s%N)" >"$root/hello.txt"`,
    config: ["--config.cmd=sh", "--config.env=PATH=/bin"],
  };
}
const APP_COMMAND = ["sh", "-c", "trap 'exit 0' TERM; cat /hello.txt; while sleep 1; do :; done"];

suite("heterogeneous nodes and the HA registry on real kubelet nodes (issue 17)", () => {
  let lab: Lab | undefined;
  let api: ApiServer | undefined;
  let env: Environment;
  let material: EnvironmentMaterial;
  let out: SynthOutput;
  let reg: RegistryProps;
  let ids: NodeIdentity[] = [];
  let images: LabImage[] = [];
  let work: string;
  let poweredOff = false;
  const imageOf = (replaces: string): string => images.find((i) => i.replaces === replaces)!.ref;
  /** A hello image as the nodes pull it: through the registry's own name (the mirror K3s nodes get). */
  const viaRegistry = (tag: string): string => `${reg.endpoint}/lab/hello-${tag}:1`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgecloud-lab-hw-"));
    env = hardwareLabEnvironment();
    const synthMaterial = await environmentMaterial(env, "generated");
    material = withMirrorEndpoints(env, synthMaterial);
    reg = material.registry!;
    out = synthesizeWith(env, material);
    // what synth itself renders (stacks/material.ts drops the plan's mirrorEndpoints): reported, not used
    const synthOwn = synthesizeWith(env, synthMaterial);
    const mirrorsOf = (o: SynthOutput) =>
      (
        parse(
          o.plan.steps
            .find((s) => s.id === `${HW_RT}/k3s-config`)!
            .files.find((f) => f.path.endsWith("registries.yaml"))!.content,
        ) as { mirrors: Record<string, { endpoint: string[] }> }
      ).mirrors[reg.endpoint]!.endpoint;
    report.push(
      `registries.yaml mirror endpoints: Pulumi path ${JSON.stringify(mirrorsOf(out))}; synth's material ${JSON.stringify(mirrorsOf(synthOwn))}`,
    );

    lab = await time("lab boot (5 hosts, 4 kubelet hosts)", () =>
      Lab.start({
        hosts: Object.entries(HW_ADDRESSES).map(([name]) => ({
          name,
          address: hwAddress(name),
          ...((HW_NODES as readonly string[]).includes(name) ? { kubeletHost: true } : {}),
        })),
        log: progress,
      }),
    );
    const l = lab;
    stageEtcdRelease(l, ["etcd-1"], { binDir: BIN_DIR, version: env.cluster.spec.etcd.version, dir: HW_ETCD_DIR });
    const steps = await time("the library's host steps (K3s-node steps without the K3s binary, etcd)", () =>
      executePlan(l, out.plan, {
        only: hwRunsHere,
        afterStep: (s, r) => progress(`${s.id}: ${r.ok ? "ok" : "FAILED"} in ${r.ms} ms`),
      }),
    );
    if (!steps.ok) throw new Error(`the library's host steps failed on the lab:\n${describeFailures(steps)}`);
    timings.push(`steps run: ${steps.steps.map((s) => s.id).join(", ")}`);

    const k3sConfig = parse(await l.sh(CONTROL, `cat ${K3S_CONFIG_FILE}`)) as Record<string, string>;
    const net = env.cluster.spec.network;
    api = await time(`kube-apiserver ready on ${CONTROL}`, () =>
      startApiServer(
        l,
        CONTROL,
        {
          endpoint: k3sConfig["datastore-endpoint"]!,
          cafile: k3sConfig["datastore-cafile"]!,
          certfile: k3sConfig["datastore-certfile"]!,
          keyfile: k3sConfig["datastore-keyfile"]!,
        },
        {
          binDir: BIN_DIR,
          workDir: join(work, "kube"),
          serviceCidr: net.serviceCidr,
          serviceIp: firstIp(net.serviceCidr),
          authorizationMode: "Node,RBAC",
          extraFlags: ["--enable-admission-plugins=NodeRestriction"],
        },
      ),
    );
    const a = api;
    await time("kube-controller-manager + kube-scheduler started", () => startControllers(l, a, BIN_DIR));

    // the seed registry (lab-only): distribution v3.0.0 built here, on server-2 with the library's registry
    // certificate (its SANs cover every K3s node address), no auth; the images are pushed into it, then its storage
    // is copied into both servers' registry volumes, so both replicas serve the same content
    if (reg.tls.kind !== "tls") throw new Error("the lab environment's registry has TLS");
    const seedEp = `${hwAddress(CONTROL)}:${SEED_PORT}`;
    installBinary(l, CONTROL, BIN_DIR, "registry");
    put(l, CONTROL, "/etc/edgecloud-lab/seed/tls.crt", reg.tls.certPem, 0o644);
    put(l, CONTROL, "/etc/edgecloud-lab/seed/tls.key", reg.tls.keyPem, 0o600);
    put(
      l,
      CONTROL,
      "/etc/edgecloud-lab/seed/config.yml",
      `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${SEED_DIR} } }\nhttp:\n  addr: ${seedEp}\n  tls: { certificate: /etc/edgecloud-lab/seed/tls.crt, key: /etc/edgecloud-lab/seed/tls.key }\n`,
      0o644,
    );
    put(l, CONTROL, "/etc/edgecloud-lab/seed/ca.crt", reg.tls.caPem, 0o644);
    await l.sh(
      CONTROL,
      `set -euo pipefail
systemctl stop ${SEED_UNIT} 2>/dev/null || true; systemctl reset-failed ${SEED_UNIT} 2>/dev/null || true
mkdir -p ${SEED_DIR}
systemd-run --unit=${SEED_UNIT} --property=Restart=no /usr/local/bin/registry serve /etc/edgecloud-lab/seed/config.yml
for i in $(seq 1 50); do curl -sf --cacert /etc/edgecloud-lab/seed/ca.crt https://${seedEp}/v2/ >/dev/null && exit 0; sleep 0.2; done
journalctl -u ${SEED_UNIT} --no-pager | tail -20; exit 1`,
    );
    const built = await time("images built (umoci) and pushed (skopeo) into the seed registry", () =>
      buildAndPushImages(
        l,
        CONTROL,
        { ...reg, endpoint: seedEp, users: [{ username: "seed", password: "unused" }] },
        "seed",
        [
          registryImageRecipe(l, CONTROL, BIN_DIR, `${reg.spec.image}:${reg.spec.version}`),
          helloRecipe("a"),
          helloRecipe("b"),
          helloRecipe("c"),
        ],
      ),
    );
    images = built.images;
    // the registry volume's stand-in: the same content in each server's directory, owned by the registry's user
    for (const s of HW_SERVERS) {
      cpSync(join(l.host(CONTROL).root, SEED_DIR), join(l.host(s).root, DATA_DIR), { recursive: true });
      await l.sh(s, `chown -R ${REGISTRY_UID}:${REGISTRY_UID} ${DATA_DIR} && chmod 0750 ${DATA_DIR}`);
    }

    ids = await Promise.all(HW_NODES.map((h) => k3sNodeIdentity(l, h)));
    const podSubnet = (i: number): string => `10.42.${i + 1}.0/24`;
    const pause = imageOf("pause");
    await time("containerd + kubelet + kube-proxy started on 4 nodes", () =>
      Promise.all(
        ids.map(async (id, i) => {
          await configureK3sNodeContainerd(l, id.host, podSubnet(i));
          // lab-only: the seed registry for the bootstrap images (CA, no credentials)
          put(
            l,
            id.host,
            `${CONTAINERD_CERTS_DIR}/${seedEp}/ca.crt`,
            reg.tls.kind === "tls" ? reg.tls.caPem : "",
            0o644,
          );
          put(
            l,
            id.host,
            `${CONTAINERD_CERTS_DIR}/${seedEp}/hosts.toml`,
            `server = "https://${seedEp}"\n\n[host."https://${seedEp}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${CONTAINERD_CERTS_DIR}/${seedEp}/ca.crt"\n`,
            0o644,
          );
          // lab stand-in on the GPU node: the `nvidia` runtime K3s configures when it finds NVIDIA's container
          // runtime (k3s-io/docs docs/advanced/advanced.md "NVIDIA Container Runtime Support"), as plain runc here
          if (id.host === HW_GPU)
            await l.sh(
              id.host,
              `printf '\\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\\n  runtime_type = "io.containerd.runc.v2"\\n' >>/etc/containerd/config.toml`,
            );
          await startContainerd(l, id.host, pause);
          await startKubelet(l, a, BIN_DIR, id, { clusterDns: net.clusterDns, apiServerUrl: a.url });
          await startKubeProxy(l, a, BIN_DIR, id, {
            clusterCidr: net.clusterCidr,
            serviceCidr: net.serviceCidr,
            apiServerUrl: a.url,
          });
        }),
      ),
    );
    await routePodSubnets(
      l,
      ids.map((id, i) => ({ host: id.host, address: id.nodeIp, podSubnet: podSubnet(i) })),
    );
    await time("nodes Ready", async () => {
      const deadline = Date.now() + 180_000;
      for (;;) {
        const r = await a.kubectl(["get", "nodes", "-o", "json"]);
        const items =
          r.code === 0
            ? (
                JSON.parse(r.stdout) as {
                  items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
                }
              ).items
            : [];
        const ready = (n: string) =>
          items.find((x) => x.metadata.name === n)?.status.conditions.find((c) => c.type === "Ready")?.status ===
          "True";
        if (ids.every((id) => ready(id.nodeName))) return;
        if (Date.now() > deadline) {
          const why = await Promise.all(
            ids.map((id) => l.exec(id.host, `journalctl -u ${KUBELET_UNIT} --no-pager | tail -25`)),
          );
          throw new Error(
            `nodes not Ready after 180 s\n${why.map((x, i) => `--- ${ids[i]!.host}\n${x.stdout}`).join("\n")}`,
          );
        }
        await sleep(1000);
      }
    });
    await time("kube-proxy serving the kubernetes ClusterIP on every node", () =>
      Promise.all(ids.map((id) => waitKubeProxy(l, id.host, firstIp(net.serviceCidr)))),
    );

    // the library's hardware manifests and its HA registry; the registry's image is the one built here
    const registryObjs = out.manifests.registry!;
    const claim = registryObjs.find((o) => o.kind === "PersistentVolumeClaim")!;
    const ns = claim.metadata.namespace!;
    const regImage = `${reg.spec.image}:${reg.spec.version}`;
    await time("hardware + registry manifests applied, registry rolled out (2 replicas)", async () => {
      await apply(
        a,
        registryObjs.filter((o) => o.kind === "Namespace"),
      );
      await apply(a, [
        ...(out.manifests.hardware ?? []),
        ...registryObjs.filter((o) => o.kind !== "Namespace").map((o) => withImage(o, regImage, imageOf(regImage))),
        rwxStandIn(ns, claim.metadata.name, HW_RWX_CLASS, "1Gi"),
      ]);
      const rolled = await a.kubectl(["-n", ns, "rollout", "status", "deployment/registry", "--timeout=180s"], {
        timeoutMs: 200_000,
      });
      if (rolled.code !== 0) {
        const pods = await a.kubectl(["-n", ns, "get", "pods", "-o", "wide"]);
        const ev = await a.kubectl(["-n", ns, "get", "events"]);
        throw new Error(`registry not rolled out: ${rolled.stdout}${rolled.stderr}\n${pods.stdout}\n${ev.stdout}`);
      }
    });
  }, 15 * 60_000);

  afterAll(async () => {
    if (lab) {
      const l = lab;
      const up = HW_NODES.filter((h) => !(poweredOff && h === DOWN));
      if (api) {
        const a = api;
        // pods deleted through the API while the kubelets still run (each stops its containers); the powered-off
        // node's pods are removed from the API only
        for (const ns of [APP_NS, "registry", "kube-system"]) {
          await a
            .kubectl(["-n", ns, "delete", "deployment,daemonset,replicaset", "--all", "--cascade=orphan"])
            .catch(() => undefined);
          if (poweredOff)
            await a
              .kubectl([
                "-n",
                ns,
                "delete",
                "pods",
                "--force",
                "--grace-period=0",
                `--field-selector=spec.nodeName=${DOWN}`,
              ])
              .catch(() => undefined);
          await a
            .kubectl(["-n", ns, "delete", "pods", "--all", "--grace-period=1", "--wait=true", "--timeout=60s"], {
              timeoutMs: 90_000,
            })
            .catch(() => undefined);
        }
      }
      await Promise.all(up.map((h) => stopUnits(l, h, [KUBE_PROXY_UNIT, KUBELET_UNIT]).catch(() => undefined)));
      await stopUnits(l, CONTROL, [KCM_UNIT, SCHEDULER_UNIT, SEED_UNIT]).catch(() => undefined);
      await api?.stop().catch(() => undefined);
      await l.stop(progress);
    }
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(
      [
        `lab hardware timings:\n  ${timings.join("\n  ")}`,
        `steps not run here:\n  ${Object.entries({ ...NOT_RUN_HERE, ...HW_NOT_RUN_HERE })
          .map(([k, v]) => `${k}: ${v}`)
          .join("\n  ")}`,
        `images standing in:\n  ${images.map((i) => `${i.replaces} → ${i.ref} (${i.from})`).join("\n  ")}`,
        `report:\n  ${report.join("\n  ")}`,
      ].join("\n"),
    );
  }, 300_000);

  test("GIVEN the library's config.yaml on each node THEN the nodes registered with its capability labels and taints, and only those", async () => {
    const nodes = (
      JSON.parse((await api!.kubectl(["get", "nodes", "-o", "json"])).stdout) as {
        items: {
          metadata: { name: string; labels: Record<string, string> };
          spec: { taints?: { key: string; value?: string; effect: string }[] };
        }[];
      }
    ).items;
    const view = (n: string) => {
      const node = nodes.find((x) => x.metadata.name === n)!;
      return {
        node: n,
        capabilityLabels: Object.keys(node.metadata.labels)
          .filter((k) => Object.values(CAPABILITY_LABELS).includes(k as never))
          .sort(),
        taints: (node.spec.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`).sort(),
      };
    };
    expect(HW_NODES.map(view)).toEqual([
      { node: "server-1", capabilityLabels: [], taints: [] },
      { node: "server-2", capabilityLabels: [], taints: [] },
      { node: HW_GPU, capabilityLabels: [CAPABILITY_LABELS.gpu], taints: [CAPABILITY_TAINTS.gpu] },
      {
        node: HW_RT,
        capabilityLabels: [CAPABILITY_LABELS.realtime, CAPABILITY_LABELS.sriov].sort(),
        taints: [CAPABILITY_TAINTS.realtime],
      },
    ]);
  });

  test("GIVEN the hardware manifests, the HA registry and test workloads WHEN the scheduler binds them THEN each lands only where it belongs", async () => {
    const a = api!;
    const RT_TOLERATION = { key: "edgecloud.io/realtime", operator: "Exists", effect: "NoSchedule" };
    const pod = (name: string, spec: Record<string, unknown>): KubeObject =>
      ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: APP_NS, labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "app", image: viaRegistry("a"), command: APP_COMMAND }],
          ...spec,
        },
      }) as unknown as KubeObject;
    await apply(a, [{ apiVersion: "v1", kind: "Namespace", metadata: { name: APP_NS } } as KubeObject]);
    await apply(a, [
      // an ordinary workload: no toleration, no selector
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "plain", namespace: APP_NS },
        spec: {
          replicas: 4,
          selector: { matchLabels: { app: "plain" } },
          template: {
            metadata: { labels: { app: "plain" } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: "app", image: viaRegistry("a"), command: APP_COMMAND }],
            },
          },
        },
      } as unknown as KubeObject,
      // a real-time workload: asks for the RT node and tolerates its taint
      pod("rt-app", { nodeSelector: { [CAPABILITY_LABELS.realtime]: "true" }, tolerations: [RT_TOLERATION] }),
      // asks for the RT node without tolerating its taint: must stay unscheduled
      pod("rt-untolerated", { nodeSelector: { [CAPABILITY_LABELS.realtime]: "true" } }),
      // a GPU workload: only the RuntimeClass (its scheduling section brings the selector and the toleration)
      pod("gpu-app", { runtimeClassName: "nvidia" }),
    ]);
    const rolled = await a.kubectl(["-n", APP_NS, "rollout", "status", "deployment/plain", "--timeout=180s"], {
      timeoutMs: 200_000,
    });
    expect({ plain: rolled.code, why: rolled.code === 0 ? "" : rolled.stderr }).toEqual({ plain: 0, why: "" });
    for (const p of ["rt-app", "gpu-app"]) {
      const w = await a.kubectl(["-n", APP_NS, "wait", "--for=condition=Ready", `pod/${p}`, "--timeout=120s"], {
        timeoutMs: 140_000,
      });
      const why = w.code === 0 ? "" : (await a.kubectl(["-n", APP_NS, "describe", "pod", p])).stdout;
      expect({ pod: p, ready: w.code, why }).toEqual({ pod: p, ready: 0, why: "" });
    }
    const all = async (ns: string) =>
      (JSON.parse((await a.kubectl(["-n", ns, "get", "pods", "-o", "json"])).stdout) as { items: PodJson[] }).items;
    const apps = await all(APP_NS);
    const nodeOf = (name: string) => apps.find((p) => p.metadata.name === name)?.spec.nodeName;
    const plainNodes = apps.filter((p) => p.metadata.name.startsWith("plain-")).map((p) => p.spec.nodeName!);
    expect(plainNodes).toHaveLength(4);
    for (const n of plainNodes) expect(HW_SERVERS as readonly string[]).toContain(n);
    expect({ rtApp: nodeOf("rt-app"), gpuApp: nodeOf("gpu-app") }).toEqual({ rtApp: HW_RT, gpuApp: HW_GPU });
    // the RuntimeClass admission plugin merged the RuntimeClass's scheduling into the pod
    const gpuApp = apps.find((p) => p.metadata.name === "gpu-app")!;
    expect(gpuApp.spec.nodeSelector).toEqual({ [CAPABILITY_LABELS.gpu]: "true" });
    expect(gpuApp.spec.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    const untolerated = apps.find((p) => p.metadata.name === "rt-untolerated")!;
    const sched = untolerated.status.conditions?.find((c) => c.type === "PodScheduled");
    expect({ node: untolerated.spec.nodeName, reason: sched?.reason }).toEqual({
      node: undefined,
      reason: "Unschedulable",
    });
    // kube-scheduler v1.36 counts, it does not name the taint: rt-1 (selected) is refused by its taint, the servers by
    // the selector, gpu-1 by both — the same pod with the toleration (rt-app) is bound to rt-1
    expect(sched?.message).toMatch(/^0\/4 nodes are available: /);
    expect(sched?.message).toMatch(/\b2 node\(s\) had untolerated taint\(s\)/);
    expect(sched?.message).toMatch(/\b2 node\(s\) didn't match Pod's node affinity\/selector/);
    report.push(`rt-untolerated: ${sched?.message}`);

    // the library's DaemonSets: NVIDIA's device plugin on the GPU node only, the SR-IOV plugin on the SR-IOV node
    // only; their images are downloads, so the pods are bound but do not run (their state is reported)
    const deadline = Date.now() + 60_000;
    let system: PodJson[] = [];
    const owned = (name: string) =>
      system.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet" && o.name === name));
    while (Date.now() < deadline) {
      system = await all("kube-system");
      if (
        owned("nvidia-device-plugin-daemonset").every((p) => p.spec.nodeName) &&
        owned("kube-sriov-device-plugin").every((p) => p.spec.nodeName) &&
        owned("nvidia-device-plugin-daemonset").length > 0 &&
        owned("kube-sriov-device-plugin").length > 0
      )
        break;
      await sleep(2000);
    }
    expect({
      nvidia: owned("nvidia-device-plugin-daemonset").map((p) => p.spec.nodeName),
      sriov: owned("kube-sriov-device-plugin").map((p) => p.spec.nodeName),
    }).toEqual({ nvidia: [HW_GPU], sriov: [HW_RT] });
    for (const p of [...owned("nvidia-device-plugin-daemonset"), ...owned("kube-sriov-device-plugin")])
      report.push(`kube-system/${p.metadata.name} on ${p.spec.nodeName}: ${describeState(p)}`);

    // the registry's replicas: one per server, none on the GPU or RT node, both Ready
    const regPods = (await all("registry")).filter((p) => p.metadata.ownerReferences?.[0]?.kind === "ReplicaSet");
    expect(
      regPods
        .map((p) => ({ node: p.spec.nodeName, ready: p.status.conditions?.find((c) => c.type === "Ready")?.status }))
        .sort((x, y) => String(x.node).localeCompare(String(y.node))),
    ).toEqual(HW_SERVERS.map((s) => ({ node: s, ready: "True" })));

    // nothing that does not tolerate a capability taint is on a GPU or RT node
    const everything = [...apps, ...system, ...regPods];
    for (const p of everything.filter((x) => x.spec.nodeName === HW_GPU || x.spec.nodeName === HW_RT)) {
      const taint = p.spec.nodeName === HW_GPU ? "nvidia.com/gpu" : "edgecloud.io/realtime";
      expect({
        pod: p.metadata.name,
        tolerates: (p.spec.tolerations ?? []).some(
          (t) => t.key === taint || (t.key === undefined && t.operator === "Exists"),
        ),
      }).toEqual({ pod: p.metadata.name, tolerates: true });
    }
    report.push(
      `placement: plain ×4 on ${[...new Set(plainNodes)].sort().join("+")}; rt-app on ${HW_RT}; gpu-app (runtimeClassName nvidia) on ${HW_GPU}, Ready under the stand-in runtime; registry replicas on ${HW_SERVERS.join(", ")}`,
    );
  }, 420_000);

  test("GIVEN every node's containerd from the library's registries.yaml WHEN server-1 (first endpoint, one replica) powers off THEN the RT node still pulls new images, through server-2", async () => {
    const a = api!;
    const l = lab!;
    // the mirror config on the RT node: both servers' NodePorts, in order, each with the registry CA; credentials
    // for both
    const hosts = await l.sh(HW_RT, `cat ${CONTAINERD_CERTS_DIR}/${reg.endpoint}/hosts.toml`);
    const endpoints = [...hosts.matchAll(/^\[host\."([^"]+)"\]/gm)].map((m) => m[1]);
    expect(endpoints).toEqual(HW_SERVERS.map((s) => `https://${hwAddress(s)}:${HW_NODE_PORT}`));
    const users = await l.sh(HW_RT, `grep -c 'username = "node"' /etc/containerd/config.toml`);
    expect(users.trim()).toBe("2");
    const pulledBefore = await pullEvent(a, "rt-app");
    report.push(`before: rt-app pulled ${viaRegistry("a")}: ${pulledBefore}`);

    const rtPod = (name: string, tag: string): KubeObject =>
      ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: APP_NS },
        spec: {
          terminationGracePeriodSeconds: 1,
          nodeSelector: { [CAPABILITY_LABELS.realtime]: "true" },
          tolerations: [{ key: "edgecloud.io/realtime", operator: "Exists", effect: "NoSchedule" }],
          containers: [{ name: "app", image: viaRegistry(tag), command: APP_COMMAND }],
        },
      }) as unknown as KubeObject;

    // power off server-1 from inside (its systemd stops kubelet, containerd, the registry replica)
    timings.push(
      `load average at the poweroff: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
    );
    const t0 = Date.now();
    poweredOff = true;
    await l.exec(DOWN, "systemctl poweroff", { timeoutMs: 15_000 }).catch(() => undefined);
    const nspawn = l.host(DOWN).nspawnPid;
    while (existsSync(`/proc/${nspawn}`) && Date.now() - t0 < 120_000) await sleep(200);
    expect({ down: !existsSync(`/proc/${nspawn}`) }).toEqual({ down: true });
    // lab: a host's network namespace outlives its container (the lab keeps it by path), so the powered-off host's
    // address still answered (connection refused at once) and its kube-proxy rules still forwarded the NodePort:
    // its link goes down, as a powered-off machine's NIC does, and nothing answers for its address any more
    await unplug(l, DOWN);
    const downMs = Date.now() - t0;
    timings.push(
      `${DOWN} powered off (systemd-nspawn exited) ${(downMs / 1000).toFixed(1)} s after systemctl poweroff`,
    );

    // right away: a new pod on the RT node with an image it has not pulled
    await apply(a, [rtPod("rt-after-b", "b")]);
    const readyB = await waitReady(a, "rt-after-b", 240_000);
    const eventsB = await podEvents(a, "rt-after-b");
    report.push(
      `rt-after-b (created ${((readyB.createdAt - t0) / 1000).toFixed(1)} s after the poweroff): Ready ${((readyB.at - t0) / 1000).toFixed(1)} s after the poweroff; events: ${eventsB.map((e) => `${e.reason}${e.count && e.count > 1 ? ` ×${e.count}` : ""}: ${e.message}`).join(" | ")}`,
    );
    expect({ pod: "rt-after-b", ready: readyB.ok }).toEqual({ pod: "rt-after-b", ready: true });

    // the control plane notices: server-1 NotReady, its replica's endpoint no longer ready
    const notReadyAt = await waitFor(async () => {
      const s = await a.kubectl([
        "get",
        "node",
        DOWN,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return s.stdout.trim() !== "True";
    }, 150_000);
    timings.push(
      `${DOWN} NotReady ${notReadyAt > 0 ? ((notReadyAt - t0) / 1000).toFixed(1) : "never (150 s)"} s after the poweroff`,
    );

    // with one replica's node down and known down: another new image
    await apply(a, [rtPod("rt-after-c", "c")]);
    const readyC = await waitReady(a, "rt-after-c", 180_000);
    report.push(
      `rt-after-c (created ${((readyC.createdAt - t0) / 1000).toFixed(1)} s after the poweroff): Ready after ${((readyC.at - readyC.createdAt) / 1000).toFixed(1)} s; ${await pullEvent(a, "rt-after-c")}`,
    );
    expect({ pod: "rt-after-c", ready: readyC.ok }).toEqual({ pod: "rt-after-c", ready: true });

    // the surviving replica (server-2's) served both manifests
    const survivor = (
      JSON.parse((await a.kubectl(["-n", "registry", "get", "pods", "-o", "json"])).stdout) as { items: PodJson[] }
    ).items.find((p) => p.spec.nodeName === CONTROL && p.metadata.ownerReferences?.[0]?.kind === "ReplicaSet")!;
    // its container log on the node (kubectl logs would need the API server's kubelet client certificate)
    const logs = (await l.sh(CONTROL, `cat /var/log/pods/registry_${survivor.metadata.name}_*/registry/*.log`)).split(
      "\n",
    );
    for (const tag of ["b", "c"]) {
      const served = logs.filter(
        (x) =>
          /msg="response completed"/.test(x) &&
          x.includes(`/v2/lab/hello-${tag}/manifests/`) &&
          /http\.response\.status=200\b/.test(x),
      );
      expect({ tag, servedBySurvivor: served.length > 0 }).toEqual({ tag, servedBySurvivor: true });
    }
    // the RT node's containerd gave up on the first endpoint and moved to the next one, for every image after the
    // poweroff (its log names the host and why: a dial timeout while the neighbour entry was still valid, then "no
    // route to host" once ARP had failed)
    const cd = (await l.sh(HW_RT, `journalctl -u containerd --no-pager -o cat | grep -F 'trying next host' || true`))
      .split("\n")
      .filter((x) => /\/v2\/lab\/hello-[bc]\//.test(x));
    const gaveUp = (tag: string) =>
      cd
        .filter((x) => x.includes(`/lab/hello-${tag}/`) && x.includes(`host="${hwAddress(DOWN)}:${HW_NODE_PORT}"`))
        .map(
          (x) =>
            `${/^time="[^T]+T([^.]+)/.exec(x)?.[1] ?? "?"} ${/: (i\/o timeout|connect: [^"]+)"/.exec(x)?.[1] ?? x}`,
        );
    for (const tag of ["b", "c"])
      expect({ tag, firstEndpointAbandoned: gaveUp(tag).length > 0 }).toEqual({ tag, firstEndpointAbandoned: true });
    report.push(
      `rt-1 containerd gave up on ${hwAddress(DOWN)}:${HW_NODE_PORT} (then tried ${hwAddress(CONTROL)}:${HW_NODE_PORT}): hello-b ${gaveUp("b").length}× [${gaveUp("b").join("; ")}], hello-c ${gaveUp("c").length}× [${gaveUp("c").join("; ")}]`,
    );
    timings.push(
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")}`,
    );
  }, 600_000);
});

async function apply(a: ApiServer, objs: readonly KubeObject[]): Promise<void> {
  if (objs.length === 0) return;
  const r = await a.kubectl(["apply", "--server-side", "--field-manager=edgecloud-lab", "-f", "-"], {
    stdin: objectsToYaml([...objs]),
  });
  const errors = r.stderr.split("\n").filter((x) => x.trim() !== "" && !x.startsWith("Warning: "));
  expect({ code: r.code, errors }).toEqual({ code: 0, errors: [] });
}

/** Takes the host's link down from outside (its network namespace is the lab's). */
async function unplug(l: Lab, host: string): Promise<void> {
  const r = spawnSync("ip", ["-n", l.host(host).netns, "link", "set", "eth0", "down"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`unplugging ${host}: ${r.stderr}`);
}

/** The object with every container image `from` replaced by `to` (a lab image standing in for it). */
function withImage(o: KubeObject, from: string, to: string): KubeObject {
  const s = JSON.stringify(o);
  return s.includes(JSON.stringify(from))
    ? (JSON.parse(s.split(JSON.stringify(from)).join(JSON.stringify(to))) as KubeObject)
    : o;
}

/**
 * The ReadWriteMany volume's stand-in, pre-bound to the claim: a hostPath volume (no node affinity), so each replica
 * mounts DATA_DIR on its own node; the test seeded both with the same content (no NFS server can run here).
 */
function rwxStandIn(namespace: string, name: string, storageClassName: string, size: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `edgecloud-lab-${namespace}-${name}`, labels: { "edgecloud.io/lab": "stand-in" } },
    spec: {
      capacity: { storage: size },
      accessModes: ["ReadWriteMany"],
      storageClassName,
      persistentVolumeReclaimPolicy: "Retain",
      claimRef: { namespace, name },
      hostPath: { path: DATA_DIR, type: "Directory" },
    },
  } as unknown as KubeObject;
}

async function podEvents(a: ApiServer, pod: string): Promise<EventJson[]> {
  const r = await a.kubectl([
    "-n",
    APP_NS,
    "get",
    "events",
    `--field-selector=involvedObject.name=${pod}`,
    "-o",
    "json",
  ]);
  const items = (JSON.parse(r.stdout) as { items: EventJson[] }).items;
  return items.sort((x, y) =>
    String(x.firstTimestamp ?? x.eventTime).localeCompare(String(y.firstTimestamp ?? y.eventTime)),
  );
}

/** The kubelet's "Successfully pulled image … in …" for the pod. */
async function pullEvent(a: ApiServer, pod: string): Promise<string> {
  const e = (await podEvents(a, pod)).filter((x) => x.reason === "Pulled");
  return e.map((x) => x.message).join("; ") || "no Pulled event";
}

async function waitReady(
  a: ApiServer,
  pod: string,
  timeoutMs: number,
): Promise<{ ok: boolean; at: number; createdAt: number }> {
  const createdAt = Date.now();
  const ok = await waitFor(async () => {
    const r = await a.kubectl([
      "-n",
      APP_NS,
      "get",
      "pod",
      pod,
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]);
    return r.stdout.trim() === "True";
  }, timeoutMs);
  return { ok: ok > 0, at: ok > 0 ? ok : Date.now(), createdAt };
}

/** Polls `check` every second; the time it first held (ms since epoch), or 0 after `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() > deadline) return 0;
    await sleep(1000);
  }
}

function describeState(p: PodJson): string {
  const c = p.status.containerStatuses?.[0];
  if (!c) return `${p.status.phase} (no container status yet)`;
  if (c.state.running) return `running ${c.image}`;
  return `${p.status.phase}, ${c.state.waiting?.reason ?? "waiting"}${c.state.waiting?.message ? ` (${c.state.waiting.message.slice(0, 160)})` : ""}`;
}

function firstIp(cidr: string): string {
  const [a, b, c, d] = cidr.split("/")[0]!.split(".").map(Number);
  return `${a}.${b}.${c}.${d! + 1}`;
}
