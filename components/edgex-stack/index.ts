export * from "./release-data";
export * from "./spec";
export * from "./validate";
export * from "./services";
export * from "./chart";
export * from "./edgex-stack";
