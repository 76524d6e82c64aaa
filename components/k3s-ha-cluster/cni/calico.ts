import { stringify } from "yaml";
import { K3sHaClusterSpec } from "../spec";

/**
 * Calico by the Tigera operator, as a K3s auto-deploy HelmChart: K3s's helm-controller installs the
 * `tigera-operator` chart from Calico's chart repository, and the chart's `installation` values become the operator's
 * `Installation` spec (projectcalico/calico v3.29.7 charts/tigera-operator/templates/crs/custom-resources.yaml:
 * `spec: omit .Values.installation "enabled"`). The one IP pool is `network.clusterCidr` (the same range K3s gives
 * `cluster-cidr`), VXLAN-encapsulated (4789/udp, opened by k3s-prereqs) with BGP off, and container IP forwarding on,
 * as the Installation CRD allows (charts/tigera-operator/crds/operator.tigera.io_installations_crd.yaml:
 * calicoNetwork.ipPools[].cidr/encapsulation/natOutgoing/nodeSelector, containerIPForwarding, bgp).
 * `bootstrap: true` runs the install job on a server's host network and tolerates not-ready nodes, which every node
 * is before its CNI exists (k3s-io/helm-controller v0.16.5 pkg/controllers/chart/chart.go; HelmChart fields in
 * pkg/apis/helm.cattle.io/v1/types.go).
 */
export const CALICO_VERSION = "v3.29.7";
/** projectcalico/calico v3.29.7 charts/tigera-operator/README.md: `helm repo add projectcalico https://docs.tigera.io/calico/charts` */
export const CALICO_CHART_REPO = "https://docs.tigera.io/calico/charts";
export const CALICO_MANIFEST = "edgecloud-calico.yaml";

/** The tigera-operator values: the Installation with one pool on clusterCidr. */
export function calicoValues(spec: K3sHaClusterSpec): Record<string, unknown> {
  return {
    installation: {
      enabled: true,
      calicoNetwork: {
        bgp: "Disabled",
        containerIPForwarding: "Enabled",
        ipPools: [
          {
            name: "default-ipv4-ippool",
            cidr: spec.network.clusterCidr,
            blockSize: 26,
            encapsulation: "VXLAN",
            natOutgoing: "Enabled",
            nodeSelector: "all()",
          },
        ],
      },
    },
    apiServer: { enabled: false },
  };
}

/** The HelmChart object the first server's K3s deploys from its manifests directory. */
export function calicoHelmChart(spec: K3sHaClusterSpec): Record<string, unknown> {
  return {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChart",
    metadata: { name: "tigera-operator", namespace: "kube-system" },
    spec: {
      repo: CALICO_CHART_REPO,
      chart: "tigera-operator",
      version: CALICO_VERSION,
      targetNamespace: "tigera-operator",
      createNamespace: true,
      bootstrap: true,
      valuesContent: stringify(calicoValues(spec)),
    },
  };
}

export function calicoManifest(spec: K3sHaClusterSpec): string {
  return stringify(calicoHelmChart(spec));
}
