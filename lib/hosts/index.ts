export * from "./host";
export * from "./validate-hosts";
export * from "./capabilities";
