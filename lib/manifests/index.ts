export * from "./kube-object";
export * from "./chart";
export * from "./validate";
export { KUBERNETES_SCHEMA_VERSION, K8S_SCHEMA_FILE, builtinKind, type BuiltinKind } from "./k8s-schema";
export { customKinds, type CustomKindVersion } from "./crd";
