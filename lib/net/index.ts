export * from "./cidr";
