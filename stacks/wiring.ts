/**
 * Cross-component wiring on the environment's raw sections, before validation, so that synth and the Pulumi
 * program see the same thing and a wired value is validated like one the user wrote. Only fills what the user
 * left unset:
 *
 * - the NFS StorageClass backs the in-cluster registry's PVC (`registry.mode.storage.storageClassName`).
 */
export function wireEnvironment(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const nfsClass = nfsStorageClassName(raw.nfs);
  const registry = asRecord(raw.registry);
  const mode = asRecord(registry?.mode);
  if (nfsClass && registry && mode?.kind === "in-cluster") {
    const storage = asRecord(mode.storage) ?? {};
    if (storage.storageClassName === undefined) out.registry = { ...registry, mode: { ...mode, storage: { ...storage, storageClassName: nfsClass } } };
  }
  return out;
}

/** The StorageClass the NFS section creates. @default "nfs" (NfsProvisioner's default name) */
export function nfsStorageClassName(nfs: unknown): string | undefined {
  const n = asRecord(nfs);
  if (!n) return undefined;
  const name = asRecord(n.storageClass)?.name;
  return typeof name === "string" ? name : "nfs";
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
