export * from "./host";
export * from "./validate-hosts";
