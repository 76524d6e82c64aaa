/**
 * edgecloud — typed infrastructure-as-code for an edge container cloud.
 * @packageDocumentation
 */
export * from "./lib/validation";
export * from "./lib/platform";
export * from "./lib/hosts";
export * from "./lib/steps";
export * from "./lib/pki";
export * from "./lib/net";
export * from "./lib/k3s";
export * from "./lib/manifests";
export * from "./lib/pulumi";
export * from "./components/k3s-ha-cluster";
export * from "./components/nfs-provisioner";
export * from "./components/registry";
export * from "./components/drone-ci";
export * from "./components/kubeedge-cloud";
export * from "./components/edgex-stack";
export * from "./stacks/environment";
export * from "./stacks/secret-refs";
export * from "./stacks/wiring";
export * from "./stacks/material";
export * from "./stacks/synth";
export * from "./stacks/write-dist";
export * from "./stacks/topology";
export * from "./stacks/topology-svg";
export * from "./stacks/rancher-import";
export * from "./stacks/edgecloud-environment";
export * from "./stacks/stack-config";
