export * from "./registries";
