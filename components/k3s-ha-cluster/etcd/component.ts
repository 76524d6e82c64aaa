/** The component name recorded on every K3sHaCluster host step. */
export const COMPONENT = "k3s-ha-cluster";
