export * from "./connection";
export * from "./host-step-commands";
export * from "./random-secret";
export * from "./certificates";
export * from "./manifests";
