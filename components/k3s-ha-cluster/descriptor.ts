import { randomBytes } from "crypto";
import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { mergeRegistries } from "../../lib/k3s/registries";
import { chartObjects } from "../../lib/manifests/chart";
import { hasRole } from "../../lib/hosts/host";
import { asRecord } from "../../lib/validation/as-record";
import { podMtu } from "./cni/pod-mtu";
import { DEFAULT_K3S_VERSION } from "./k3s/version";
import { generateClusterMaterial, placeholderMaterial } from "./material";
import { packageReposStepIds, serversStartedStepId } from "./anchors";
import type { K3sHaCluster } from "./k3s-ha-cluster";
import { renderK3sHaClusterSteps } from "./plan";
import { kubeVipChart } from "./registration/kube-vip-chart";
import { clusterTopology } from "./topology";

export const K3S_COMPONENT = "k3s-ha-cluster";

// k3s-io/docs docs/installation/requirements.md "Inbound Rules for K3s Nodes": 6443 (supervisor and API server),
// 10250 (kubelet) on every node, 8472/udp (flannel VXLAN); K3s's API server listens on 6444 behind the supervisor.
const K3S_SERVER_PORTS = [6443, 6444];
const K3S_NODE_PORTS = [10250];

/** K3s's default pod network (k3s.network.clusterCidr's default). */
const DEFAULT_CLUSTER_CIDR = "10.42.0.0/16";

/**
 * The K3s cluster: every host's K3s (and etcd) steps, kube-vip's manifest when it holds the registration address.
 * It marks `servers-started` (the last server's start) and `package-repos` (each host's package repositories), takes
 * the registry's `registries` for every node's registries.yaml, and provides the `kubeconfig`.
 */
export const k3sComponent: ComponentDescriptor<K3sHaCluster> = {
  id: K3S_COMPONENT,
  section: "k3s",
  secretFields: [/^etcd\.snapshot\.s3\.(accessKeyId|secretAccessKey)$/],
  sectionWires(raw) {
    const k3s = asRecord(raw.k3s);
    const network = asRecord(k3s?.network);
    const str = (v: unknown, d: string) => (typeof v === "string" ? v : d);
    return {
      kubernetesVersion: str(k3s?.version, DEFAULT_K3S_VERSION),
      clusterCidr: str(network?.clusterCidr, DEFAULT_CLUSTER_CIDR),
      podMtu: podMtu(str(network?.flannelBackend, "vxlan")),
    };
  },
  listeners({ hosts, cluster }) {
    const names = (role: "server" | "agent" | "etcd") => hosts.filter((h) => hasRole(h, role)).map((h) => h.name);
    const servers = names("server");
    const nodes = hosts.filter((h) => hasRole(h, "server") || hasRole(h, "agent")).map((h) => h.name);
    const etcd = cluster.spec.etcd;
    return [
      ...K3S_SERVER_PORTS.map((port) => ({
        port,
        proto: "tcp" as const,
        field: `K3s server port ${port}`,
        hosts: servers,
      })),
      ...K3S_NODE_PORTS.map((port) => ({ port, proto: "tcp" as const, field: `kubelet port ${port}`, hosts: nodes })),
      { port: etcd.clientPort, proto: "tcp", field: "k3s.etcd.clientPort", hosts: names("etcd") },
      { port: etcd.peerPort, proto: "tcp", field: "k3s.etcd.peerPort", hosts: names("etcd") },
    ];
  },
  present: () => true,
  provides: () => ["kubeconfig"],
  marks: () => ["servers-started", "package-repos"],
  material: async (env, kind) => ({
    cluster:
      kind === "placeholder"
        ? placeholderMaterial(env.cluster)
        : await generateClusterMaterial(env.cluster, randomBytes(32).toString("hex")),
  }),
  describe: () => "rendering host steps",
  render({ env, material, wire }) {
    const reg = env.cluster.spec.registrationAddress;
    const registries = wire("registries");
    const cluster = registries
      ? { ...env.cluster, registries: mergeRegistries(env.cluster.registries, registries) }
      : env.cluster;
    const steps = renderK3sHaClusterSteps(cluster, material.cluster);
    return {
      steps,
      ...(reg?.kind === "kube-vip"
        ? { manifests: chartObjects(kubeVipChart({ vip: reg.vip, interface: reg.interface, image: reg.image })) }
        : {}),
      phases: {
        "servers-started": [serversStartedStepId(clusterTopology(cluster))],
        "package-repos": packageReposStepIds(steps.map((s) => s.id)),
      },
    };
  },
  deploy({ env, raw, executor, provisioning, parent, wire }) {
    // the Pulumi half loads only when a stack deploys (edgecloud/synth runs without Pulumi)
    const { K3sHaCluster } = require("./k3s-ha-cluster") as typeof import("./k3s-ha-cluster");
    const registries = wire("registries");
    const cluster = new K3sHaCluster(
      env.name,
      {
        hosts: raw.hosts as never,
        spec: raw.k3s as never,
        executor,
        provisioning,
        ...(registries ? { registries } : {}),
      },
      { parent },
    );
    return {
      component: cluster,
      wires: { kubeconfig: cluster.kubeconfig },
      phases: { "servers-started": [cluster.serversStarted], "package-repos": cluster.packageRepos },
    };
  },
};
