export * from "./connection";
export * from "./host-step-commands";
export * from "./host-step-run";
export * from "./random-secret";
export * from "./certificates";
export * from "./manifests";
export * from "./step-gate";
