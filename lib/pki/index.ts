export * from "./x509";
