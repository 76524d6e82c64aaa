export * from "./registries";
export * from "./node-roles";
