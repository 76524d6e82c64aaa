export * from "./os";
export * from "./arch";
export * from "./support-matrix";
export * from "./accelerators";
