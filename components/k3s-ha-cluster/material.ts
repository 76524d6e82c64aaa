import { internalAddress } from "../../lib/hosts/host";
import { CertRequest, IssuedCert, createCa, issueCert } from "../../lib/pki/x509";
import { K3sHaClusterProps } from "./spec";
import { clusterTopology } from "./topology";

/** Certificates of the etcd cluster: one CA; per member a server and a peer cert; per K3s server a client cert. */
export interface EtcdPki {
  readonly ca: IssuedCert;
  readonly members: Readonly<Record<string, { readonly server: IssuedCert; readonly peer: IssuedCert }>>;
  /** Per K3s server host. */
  readonly clients: Readonly<Record<string, IssuedCert>>;
  /** etcdctl on the members (snapshots, defrag, membership). */
  readonly admin: IssuedCert;
}

/** Secret material the renderers embed in 0600 files. Generated once (Pulumi state or synth), never in argv. */
export interface ClusterMaterial {
  /** K3s server token. */
  readonly token: string;
  /** Absent without external etcd. */
  readonly etcd?: EtcdPki;
  /** The S3 credentials of `k3s.etcd.snapshot.s3` (absent without it), resolved (they may be secret Outputs in the spec). */
  readonly etcdS3?: EtcdS3Credentials;
}

export interface EtcdS3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The spec's S3 credentials as plain strings (synth, tests, the lab); Outputs are resolved by the component instead. */
export function etcdS3Credentials(props: K3sHaClusterProps): EtcdS3Credentials | undefined {
  const s3 = props.spec.etcd.snapshot.s3;
  if (!s3 || !clusterTopology(props).externalEtcd) return undefined;
  if (typeof s3.accessKeyId !== "string" || typeof s3.secretAccessKey !== "string")
    throw new Error(
      "k3s.etcd.snapshot.s3: the credentials are Pulumi Outputs here; only the K3sHaCluster component resolves them (give strings to render without Pulumi)",
    );
  return { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
}

export interface EtcdCertRequests {
  readonly caCommonName: string;
  readonly members: Readonly<Record<string, { readonly server: CertRequest; readonly peer: CertRequest }>>;
  readonly clients: Readonly<Record<string, CertRequest>>;
  readonly admin: CertRequest;
}

/** What certificates the cluster needs (pure): SANs carry each member's address, name and localhost. */
export function etcdCertRequests(props: K3sHaClusterProps): EtcdCertRequests {
  const t = clusterTopology(props);
  const days = props.spec.etcd.certValidityDays;
  const sans = (h: (typeof t.etcd)[number]) => {
    const addrs = [...new Set([h.address, internalAddress(h)])];
    const isIp = (a: string) => /^[\d.]+$/.test(a) || a.includes(":");
    return {
      ips: [...addrs.filter(isIp), "127.0.0.1"],
      dnsNames: [...new Set([h.name, ...addrs.filter((a) => !isIp(a)), "localhost"])],
    };
  };
  return {
    caCommonName: `${props.name}-etcd-ca`,
    members: Object.fromEntries(
      t.etcd.map((h) => [
        h.name,
        {
          server: { commonName: `${h.name}-server`, ...sans(h), usages: ["server", "client"], validityDays: days },
          peer: { commonName: `${h.name}-peer`, ...sans(h), usages: ["server", "client"], validityDays: days },
        },
      ]),
    ),
    clients: Object.fromEntries(
      t.servers.map((h) => [
        h.name,
        { commonName: `k3s-${h.name}`, usages: ["client"], validityDays: days } satisfies CertRequest,
      ]),
    ),
    admin: { commonName: `${props.name}-etcd-admin`, usages: ["client"], validityDays: days },
  };
}

/** Generates all material in-process (synth, tests, the lab). Pulumi generates the same through stateful resources. */
export async function generateClusterMaterial(props: K3sHaClusterProps, token: string): Promise<ClusterMaterial> {
  if (!clusterTopology(props).externalEtcd) return { token };
  const s3 = etcdS3Credentials(props);
  const req = etcdCertRequests(props);
  const ca = await createCa(req.caCommonName, props.spec.etcd.certValidityDays);
  const members: Record<string, { server: IssuedCert; peer: IssuedCert }> = {};
  for (const [name, r] of Object.entries(req.members)) {
    members[name] = { server: await issueCert(ca, r.server), peer: await issueCert(ca, r.peer) };
  }
  const clients: Record<string, IssuedCert> = {};
  for (const [name, r] of Object.entries(req.clients)) clients[name] = await issueCert(ca, r);
  return {
    token,
    etcd: { ca, members, clients, admin: await issueCert(ca, req.admin) },
    ...(s3 ? { etcdS3: s3 } : {}),
  };
}

/**
 * Placeholder material with the right shape: renders the step structure before secrets exist. `variant` gives
 * another placeholder, different in every value and length (a step rendered the same with both reads no material).
 */
export function placeholderMaterial(props: K3sHaClusterProps, variant = ""): ClusterMaterial {
  const fake = (n: string): IssuedCert => ({
    certPem: `<${n}${variant}.crt>`,
    keyPem: `<${n}${variant}.key>`,
    notAfter: variant,
  });
  const token = `<token${variant}>`;
  if (!clusterTopology(props).externalEtcd) return { token };
  const req = etcdCertRequests(props);
  return {
    token,
    etcd: {
      ca: fake("ca"),
      members: Object.fromEntries(
        Object.keys(req.members).map((n) => [n, { server: fake(`${n}-server`), peer: fake(`${n}-peer`) }]),
      ),
      clients: Object.fromEntries(Object.keys(req.clients).map((n) => [n, fake(`k3s-${n}`)])),
      admin: fake("admin"),
    },
    ...(props.spec.etcd.snapshot.s3
      ? {
          etcdS3: {
            accessKeyId: `<s3-access-key-id${variant}>`,
            secretAccessKey: `<s3-secret-access-key${variant}>`,
          },
        }
      : {}),
  };
}
