import { DroneCiProps, DroneCiSpecInput, validateDroneCi } from "../../../components/drone-ci";
import { IssueCollector } from "../../../lib/validation/issues";

export function droneProps(input: DroneCiSpecInput): DroneCiProps {
  const issues = new IssueCollector();
  const plan = validateDroneCi(input, issues);
  issues.throwIfAny();
  const spec = plan!.spec;
  const p = spec.provider;
  const db = spec.server.database;
  return {
    spec,
    providerServer: plan!.providerServer,
    rpcSecret: "rpc-0123456789abcdef",
    databaseSecret: "0123456789abcdef0123456789abcdef",
    clientSecret: p.kind === "gogs" ? undefined : String(p.clientSecret),
    databaseDatasource: db.driver === "sqlite3" ? undefined : String(db.datasource),
    gitSecrets: spec.git
      ? { secretKey: "git-secret-key", internalToken: "git-internal-token", jwtSecret: "ab".repeat(32) }
      : undefined,
  };
}

export function droneProblems(input: unknown): string[] {
  const issues = new IssueCollector();
  validateDroneCi(input, issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

export const GOGS_IN_CLUSTER: DroneCiSpecInput = {
  server: { host: "drone.edge.lan", proto: "http" },
  provider: { kind: "gogs" },
  git: { kind: "gogs" },
};
