import { stringify } from "yaml";
import { Host, internalAddress } from "../../lib/hosts/host";
import { joinHostPort } from "../../lib/validation/net";
import { kubeEdgeRelease } from "./release";
import { EDGE_ROLE_LABEL, KubeEdgeCloudProps } from "./spec";

/** `key[=value]:Effect` → a Node taint. */
function parseTaint(t: string): { key: string; value?: string; effect: string } {
  const [kv, effect] = [t.slice(0, t.lastIndexOf(":")), t.slice(t.lastIndexOf(":") + 1)];
  const eq = kv.indexOf("=");
  return eq < 0 ? { key: kv, effect } : { key: kv.slice(0, eq), value: kv.slice(eq + 1), effect };
}

/** The runtime endpoint edgecore's kubelet talks CRI to. */
export const RUNTIME_ENDPOINTS = {
  containerd: "unix:///run/containerd/containerd.sock",
  docker: "unix:///var/run/dockershim.sock",
} as const;

/**
 * edgecore.yaml (`edgecore.config.kubeedge.io/v1alpha2`, kind EdgeCore): the fields edgecloud sets. edgecore reads
 * the file over its built-in defaults, so fields not named here keep upstream's defaults. The join token is the only
 * secret, in `modules.edgeHub.token`; edgecore uses it to fetch its certificate from cloudcore's https endpoint.
 */
export function edgeCoreConfig(props: KubeEdgeCloudProps, host: Host, token: string): Record<string, unknown> {
  const { spec, join } = props;
  const release = kubeEdgeRelease(spec.version);
  const hubPort = (kind: "websocket" | "quic") => {
    if (spec.exposure.kind === "NodePort")
      return kind === "quic" ? spec.exposure.nodePorts.quic : spec.exposure.nodePorts.cloudhub;
    return kind === "quic" ? spec.cloudHub.quicPort : spec.cloudHub.websocketPort;
  };
  const tunnelPort = spec.exposure.kind === "NodePort" ? spec.exposure.nodePorts.tunnel : spec.cloudStream.tunnelPort;
  const endpoint = RUNTIME_ENDPOINTS[spec.edge.runtime];
  const labels = { [EDGE_ROLE_LABEL]: "", "node-role.kubernetes.io/agent": "", ...spec.edge.labels, ...host.labels };
  const taints = [
    ...(spec.edge.taint ? [{ key: EDGE_ROLE_LABEL, effect: "NoSchedule" }] : []),
    ...host.taints.map(parseTaint),
  ];
  const registerWithTaints = taints.length > 0 ? { registerWithTaints: taints } : {};
  const runtime =
    release.edgedRuntimeFields === "edged"
      ? {
          containerRuntime: spec.edge.runtime === "docker" ? "docker" : "remote",
          remoteRuntimeEndpoint: endpoint,
          remoteImageEndpoint: endpoint,
          ...registerWithTaints,
          tailoredKubeletConfig: { cgroupDriver: spec.edge.cgroupDriver },
        }
      : {
          tailoredKubeletConfig: {
            cgroupDriver: spec.edge.cgroupDriver,
            containerRuntimeEndpoint: endpoint,
            ...registerWithTaints,
          },
        };
  const timeouts = { handshakeTimeout: 30, readDeadline: 15, writeDeadline: 15 };
  return {
    apiVersion: "edgecore.config.kubeedge.io/v1alpha2",
    kind: "EdgeCore",
    database: { aliasName: "default", dataSource: "/var/lib/kubeedge/edgecore.db", driverName: "sqlite3" },
    modules: {
      edgeHub: {
        enable: true,
        heartbeat: 15,
        httpServer: join.certServer,
        token,
        rotateCertificates: true,
        tlsCaFile: "/etc/kubeedge/ca/rootCA.crt",
        tlsCertFile: "/etc/kubeedge/certs/server.crt",
        tlsPrivateKeyFile: "/etc/kubeedge/certs/server.key",
        websocket: {
          enable: spec.edge.hubProtocol === "websocket",
          server: joinHostPort(join.address, hubPort("websocket")),
          ...timeouts,
        },
        quic: {
          enable: spec.edge.hubProtocol === "quic",
          server: joinHostPort(join.address, hubPort("quic")),
          ...timeouts,
        },
      },
      edged: {
        enable: true,
        hostnameOverride: host.name,
        nodeIP: internalAddress(host),
        registerNodeNamespace: "default",
        nodeLabels: labels,
        ...runtime,
      },
      edgeStream: {
        enable: spec.cloudStream.enable,
        server: joinHostPort(join.address, tunnelPort),
        handshakeTimeout: 30,
        readDeadline: 15,
        writeDeadline: 15,
        tlsTunnelCAFile: "/etc/kubeedge/ca/rootCA.crt",
        tlsTunnelCertFile: "/etc/kubeedge/certs/server.crt",
        tlsTunnelPrivateKeyFile: "/etc/kubeedge/certs/server.key",
      },
      // the MQTT event bus needs a broker on the node: upstream's mosquitto DaemonSet
      eventBus: { enable: spec.mosquitto, mqttMode: 2, mqttServerExternal: "tcp://127.0.0.1:1883" },
      metaManager: { metaServer: { enable: spec.dynamicController } },
    },
  };
}

export function edgeCoreConfigYaml(config: Record<string, unknown>): string {
  return stringify(config, { lineWidth: 0 });
}
