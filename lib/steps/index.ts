export * from "./host-step";
export * from "./plan";
export * from "./bundle";
export * from "./prelude";
export * from "./firewall";
