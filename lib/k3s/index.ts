export * from "./registries";
export * from "./node-roles";
export * from "./containerd-registries";
