export * from "./host-step";
export * from "./plan";
export * from "./bundle";
export * from "./prelude";
export * from "./firewall";
export { sh, raw, RawShell, type ShellValue } from "./sh";
export * from "./writers";
export * from "./step-limiter";
export * from "./provisioning";
