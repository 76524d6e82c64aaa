export * from "./objects";
export * from "./hardware";
