import { stringify } from "yaml";
import { KubeEdgeCloudSpec } from "./spec";

/** cloudcore.yaml (`cloudcore.config.kubeedge.io/v1alpha2`, kind CloudCore), the fields edgecloud sets. */
export interface CloudCoreConfig {
  readonly apiVersion: "cloudcore.config.kubeedge.io/v1alpha2";
  readonly kind: "CloudCore";
  readonly kubeAPIConfig: {
    readonly kubeConfig: string;
    readonly master: string;
    readonly qps: number;
    readonly burst: number;
  };
  readonly modules: {
    readonly cloudHub: {
      readonly advertiseAddress: readonly string[];
      readonly dnsNames: readonly string[];
      readonly nodeLimit: number;
      readonly tlsCAFile: string;
      readonly tlsCertFile: string;
      readonly tlsPrivateKeyFile: string;
      readonly unixsocket: { readonly enable: boolean; readonly address: string };
      readonly websocket: { readonly enable: boolean; readonly address: string; readonly port: number };
      readonly quic: {
        readonly enable: boolean;
        readonly address: string;
        readonly port: number;
        readonly maxIncomingStreams: number;
      };
      readonly https: { readonly enable: boolean; readonly address: string; readonly port: number };
    };
    readonly cloudStream: {
      readonly enable: boolean;
      readonly streamPort: number;
      readonly tunnelPort: number;
      readonly tlsStreamCAFile: string;
      readonly tlsStreamCertFile: string;
      readonly tlsStreamPrivateKeyFile: string;
      readonly tlsTunnelCAFile: string;
      readonly tlsTunnelCertFile: string;
      readonly tlsTunnelPrivateKeyFile: string;
    };
    /** Only the load/buffer values cloudcore would otherwise raise at start (enable and the rest keep their defaults). */
    readonly edgeController: {
      readonly load: {
        readonly queryNodeWorkers: number;
        readonly patchNodeWorkers: number;
        readonly createLeaseWorkers: number;
      };
      readonly buffer: { readonly patchNode: number; readonly queryNode: number; readonly createLease: number };
    };
    readonly dynamicController: { readonly enable: boolean };
    readonly router: {
      readonly enable: boolean;
      readonly address: string;
      readonly port: number;
      readonly restTimeout: number;
    };
    readonly iptablesManager: { readonly enable: boolean; readonly mode: "external" | "internal" };
  };
}

/** Where the stream certificates (Secret `cloudcore`) are mounted in the cloudcore container. */
export const STREAM_CERT_PATHS = {
  ca: "/etc/kubeedge/ca/streamCA.crt",
  cert: "/etc/kubeedge/certs/stream.crt",
  key: "/etc/kubeedge/certs/stream.key",
} as const;

/** The typed cloudcore configuration for a spec. */
export function cloudCoreConfig(spec: KubeEdgeCloudSpec): CloudCoreConfig {
  const h = spec.cloudHub;
  return {
    apiVersion: "cloudcore.config.kubeedge.io/v1alpha2",
    kind: "CloudCore",
    // cloudcore's AdjustCloudCoreConfig raises these to what cloudHub.nodeLimit needs and then rewrites ConfigMap
    // cloudcore at every start (kubeedge/kubeedge v1.23.1 cloud/cmd/cloudcore/app/server.go; formulas in
    // staging/src/github.com/kubeedge/api/apis/componentconfig/cloudcore/v1alpha1/default.go): rendered at those
    // values, so the ConfigMap stays as applied
    kubeAPIConfig: { kubeConfig: "", master: "", qps: 5 * h.nodeLimit, burst: 10 * h.nodeLimit },
    modules: {
      cloudHub: {
        advertiseAddress: h.advertiseAddress,
        dnsNames: h.dnsNames,
        nodeLimit: h.nodeLimit,
        tlsCAFile: "/etc/kubeedge/ca/rootCA.crt",
        tlsCertFile: "/etc/kubeedge/certs/edge.crt",
        tlsPrivateKeyFile: "/etc/kubeedge/certs/edge.key",
        unixsocket: { enable: true, address: "unix:///var/lib/kubeedge/kubeedge.sock" },
        websocket: { enable: true, address: "0.0.0.0", port: h.websocketPort },
        quic: { enable: h.quic, address: "0.0.0.0", port: h.quicPort, maxIncomingStreams: 10000 },
        https: { enable: true, address: "0.0.0.0", port: h.httpsPort },
      },
      cloudStream: {
        enable: spec.cloudStream.enable,
        streamPort: spec.cloudStream.streamPort,
        tunnelPort: spec.cloudStream.tunnelPort,
        tlsStreamCAFile: STREAM_CERT_PATHS.ca,
        tlsStreamCertFile: STREAM_CERT_PATHS.cert,
        tlsStreamPrivateKeyFile: STREAM_CERT_PATHS.key,
        tlsTunnelCAFile: "/etc/kubeedge/ca/rootCA.crt",
        tlsTunnelCertFile: "/etc/kubeedge/certs/server.crt",
        tlsTunnelPrivateKeyFile: "/etc/kubeedge/certs/server.key",
      },
      edgeController: {
        load: {
          queryNodeWorkers: h.nodeLimit,
          patchNodeWorkers: 100 + Math.floor(h.nodeLimit / 50),
          createLeaseWorkers: h.nodeLimit,
        },
        buffer: {
          patchNode: 1024 + Math.floor(h.nodeLimit / 2),
          queryNode: 1024 + h.nodeLimit,
          createLease: 1024 + h.nodeLimit,
        },
      },
      dynamicController: { enable: spec.dynamicController },
      router: { enable: spec.router, address: "0.0.0.0", port: 9443, restTimeout: 60 },
      iptablesManager: { enable: spec.iptablesManager.enable, mode: spec.iptablesManager.mode },
    },
  };
}

export function cloudCoreConfigYaml(config: CloudCoreConfig): string {
  return stringify(config, { lineWidth: 0 });
}
