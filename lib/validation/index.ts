export * from "./issues";
export * from "./paths";
export * from "./net";
export * from "./url";
export * from "./kubernetes";
export * from "./systemd-calendar";
export * from "./ssh";
export * from "./version";
