export * from "./fleet-sites";
export * from "./fleet-summary";
export * from "./run-fleet";
