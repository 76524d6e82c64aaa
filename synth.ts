/**
 * `edgecloud/synth`: environment validation and synthesis (host scripts, manifests, topology) without loading
 * Pulumi — for snapshot tests, CI checks and tools that only render. Everything here is also exported by
 * `edgecloud`, which adds the Pulumi components and stacks.
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
export * from "./stacks/environment";
export * from "./stacks/secret-refs";
export * from "./stacks/material";
export * from "./stacks/component-descriptor";
export * from "./stacks/composition";
export * from "./stacks/synth";
export * from "./stacks/write-dist";
export * from "./stacks/topology";
export * from "./stacks/topology-svg";
