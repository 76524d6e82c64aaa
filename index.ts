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
