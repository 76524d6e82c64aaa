import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { asRecord } from "../../lib/validation/as-record";
import { cloudCoreObjects } from "./cloudcore-chart";
import { KUBEEDGE_COMPONENT, TOKEN_PLACEHOLDER } from "./edge-node-steps";
import { kubeEdgeHostSteps } from "./host-steps";
import { poolArtifacts } from "./pool-artifacts";
import type { KubeEdgeCloud } from "./kubeedge-cloud";
import { checkKubeEdgeCloudSection } from "./validate";
import { hasRole } from "../../lib/hosts/host";

/**
 * cloudcore and the edge nodes joined to it; the edge nodes' containerd mirrors the registry's `registries`. It marks
 * `edge-nodes` (EdgeX waits for them).
 */
export const kubeEdgeComponent: ComponentDescriptor<KubeEdgeCloud> = {
  id: KUBEEDGE_COMPONENT,
  section: "kubeedge",
  sectionWires(raw) {
    const hosts = Array.isArray(raw.hosts) ? raw.hosts.map(asRecord) : [];
    const edge = hosts.filter((h) => Array.isArray(h?.roles) && h.roles.includes("edge")).map((h) => h!.arch);
    return { edgeArches: [...new Set(edge)].filter((a): a is string => typeof a === "string") };
  },
  wireSection: (kubeedge, { kubernetesVersion }) =>
    kubeedge.kubernetesVersion === undefined ? { ...kubeedge, kubernetesVersion } : { ...kubeedge },
  check(section, { hosts, issues, cluster }) {
    const reg = cluster?.spec.registrationAddress;
    const registrationAddress = reg?.kind === "kube-vip" ? reg.vip : reg?.kind === "external" ? reg.address : undefined;
    return checkKubeEdgeCloudSection(hosts, section, issues, undefined, { registrationAddress });
  },
  checkAbsent({ hosts, issues }) {
    hosts.forEach(
      (h, i) =>
        hasRole(h, "edge") &&
        issues.add(
          `hosts[${i}].roles`,
          h.roles,
          'has "edge", but the environment has no kubeedge section to join edge nodes to',
        ),
    );
  },
  listeners({ hosts, kubeedge }) {
    const ke = kubeedge!.spec;
    const servers = hosts.filter((h) => hasRole(h, "server")).map((h) => h.name);
    const cloudcore = kubeedge!.cloudcoreNode ? [kubeedge!.cloudcoreNode] : servers;
    const hub = ke.cloudHub;
    const stream = ke.cloudStream;
    if (ke.exposure.kind === "hostNetwork")
      return [
        { port: hub.websocketPort, proto: "tcp", field: "kubeedge.cloudHub.websocketPort", hosts: cloudcore },
        { port: hub.httpsPort, proto: "tcp", field: "kubeedge.cloudHub.httpsPort", hosts: cloudcore },
        ...(hub.quic
          ? [{ port: hub.quicPort, proto: "udp" as const, field: "kubeedge.cloudHub.quicPort", hosts: cloudcore }]
          : []),
        ...(stream.enable
          ? [
              {
                port: stream.streamPort,
                proto: "tcp" as const,
                field: "kubeedge.cloudStream.streamPort",
                hosts: cloudcore,
              },
              {
                port: stream.tunnelPort,
                proto: "tcp" as const,
                field: "kubeedge.cloudStream.tunnelPort",
                hosts: cloudcore,
              },
            ]
          : []),
      ];
    if (ke.exposure.kind === "NodePort")
      return Object.entries(ke.exposure.nodePorts).map(([k, port]) => ({
        port,
        proto: k === "quic" ? ("udp" as const) : ("tcp" as const),
        field: `kubeedge.exposure.nodePorts.${k}`,
      }));
    return [];
  },
  present: (env) => env.kubeedge !== undefined,
  marks: () => ["edge-nodes"],
  describe: ({ kubeedge }) =>
    `rendering cloudcore (${kubeedge!.spec.mode}), ${kubeedge!.edgeHosts.length} edge node(s) joining ${kubeedge!.join.cloudcoreIpPort}` +
    (kubeedge!.spec.edgePools.length > 0
      ? ` and the join bundles of ${kubeedge!.spec.edgePools.length} edge pool(s)`
      : ""),
  render({ env, opts, wire }) {
    const registries = wire("registries");
    const ke = registries ? { ...env.kubeedge!, registries } : env.kubeedge!;
    const token = opts.kubeedgeToken ?? process.env.EDGECLOUD_KUBEEDGE_TOKEN;
    // keadm init (keadm mode), the token wait, cloud firewall ports, then the edge joins — as the component does
    const steps = kubeEdgeHostSteps(ke, token ?? TOKEN_PLACEHOLDER);
    // the edge pools' join bundles: files for the pools' machines, no host step of this environment
    const pools = poolArtifacts(ke, token);
    return {
      // the stream certificate Secret is made on a server by K3s's CA (host step kubeedge-stream-cert)
      ...(ke.spec.mode === "manifests" ? { manifests: cloudCoreObjects(ke) } : {}),
      notes: [
        ...(token === undefined && ke.edgeHosts.length > 0
          ? [
              `kubeedge: the edge nodes' join steps hold ${TOKEN_PLACEHOLDER}; the token exists once cloudcore runs (kubectl -n kubeedge get secret tokensecret), then set EDGECLOUD_KUBEEDGE_TOKEN and synth again`,
            ]
          : []),
        ...pools.notes,
      ],
      ...(pools.artifacts.length > 0 ? { artifacts: pools.artifacts } : {}),
      steps,
      // like the component's resource on the stack: cloudcore's side and every edge node joined
      phases: { "edge-nodes": steps.map((s) => s.id) },
    };
  },
  deploy({ name, raw, executor, provisioning, parent, wire, after }) {
    const { KubeEdgeCloud } = require("./kubeedge-cloud") as typeof import("./kubeedge-cloud");
    const registries = wire("registries");
    const component = new KubeEdgeCloud(
      `${name}-kubeedge`,
      {
        hosts: raw.hosts as never,
        spec: raw.kubeedge as never,
        kubeconfig: wire("kubeconfig")!,
        dependsOn: after(["servers-started", "package-repos"]),
        executor,
        provisioning,
        ...(registries ? { registries } : {}),
      },
      { parent },
    );
    return { component, phases: { "edge-nodes": [component] } };
  },
};
