import { KubeObject } from "../../lib/manifests/kube-object";
import { EDGE_ROLE_LABEL, EDGE_TOLERATION } from "../../components/kubeedge-cloud/spec";

/** The seed's analytics demo (kubeedge/examples apache-beam-analysis, demo 1.2), one instance per edge node. */
export interface BeamAnalyticsProps {
  /** @default "beam-analytics" */
  readonly namespace?: string;
  /** Demo 1.1 (batch alerting) or 1.2 (streaming filter). @default "containerise/ke_apache_beam:ke_apache_analysis_v1.2" */
  readonly image?: string;
  /** The published image is amd64 only. @default "amd64" */
  readonly arch?: string;
  /** Extra node labels that select the edge nodes to run on. @default {} */
  readonly nodeSelector?: Readonly<Record<string, string>>;
}

/**
 * A DaemonSet on edge nodes: the pipeline reads the MQTT broker on localhost:1883 (KubeEdge's mosquitto on the
 * edge node, `mosquitto: true`), filters readings and publishes alerts back to the broker. Host networking: edge
 * nodes run without a cluster network, and the broker listens on the node.
 */
export function beamAnalyticsObjects(props: BeamAnalyticsProps = {}): KubeObject[] {
  const ns = props.namespace ?? "beam-analytics";
  const labels = {
    "app.kubernetes.io/name": "ke-apachebeam-analysis",
    "app.kubernetes.io/part-of": "beam-mqtt-analytics",
  };
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { "pod-security.kubernetes.io/enforce": "privileged" } },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "ke-apachebeam-analysis", namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { [EDGE_ROLE_LABEL]: "", "kubernetes.io/arch": props.arch ?? "amd64", ...props.nodeSelector },
            tolerations: [EDGE_TOLERATION],
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            containers: [
              {
                name: "ke-apachebeam-analysis",
                image: props.image ?? "containerise/ke_apache_beam:ke_apache_analysis_v1.2",
                imagePullPolicy: "IfNotPresent",
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      },
    },
  ];
}
