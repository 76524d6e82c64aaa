export * from "./objects";
export * from "./hardware";
export * from "./kubevirt";
