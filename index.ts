/**
 * edgecloud — typed infrastructure-as-code for an edge container cloud.
 * @packageDocumentation
 */
// everything `edgecloud/synth` has (validation, renderers' foundation, synthesis), then the Pulumi side
export * from "./synth";
export * from "./lib/pulumi";
export * from "./components/k3s-ha-cluster";
export * from "./components/nfs-provisioner";
export * from "./components/registry";
export * from "./components/drone-ci";
export * from "./components/kubeedge-cloud";
export * from "./components/edgex-stack";
export * from "./components/hardware";
export * from "./stacks/wiring";
export * from "./stacks/rancher-import";
export * from "./stacks/edgecloud-environment";
export * from "./stacks/stack-config";
export * from "./stacks/fleet";
