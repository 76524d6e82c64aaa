import { hasRole } from "../lib/hosts/host";
import { IssueCollector } from "../lib/validation/issues";
import type { Listener } from "./component-descriptor";
import { COMPOSITION } from "./composition";
import type { Environment } from "./environment";

/**
 * Ports of co-located roles must not clash: each component of {@link COMPOSITION} says what it listens on (etcd's
 * client/peer ports, K3s's own ports, the host-mode registry, cloudcore on the host network, the NodePorts of the
 * registry and cloudcore on every node). Each clash is named by both fields.
 */
export function checkPortClashes(env: Environment, issues: IssueCollector): void {
  const nodes = env.hosts.filter((h) => hasRole(h, "server") || hasRole(h, "agent")).map((h) => h.name);
  const list: Listener[] = COMPOSITION.filter((c) => c.present(env)).flatMap((c) => [...(c.listeners?.(env) ?? [])]);
  const everywhere = (l: Listener) => l.hosts ?? nodes;
  const reported = new Set<string>();
  list.forEach((a, i) => {
    for (const b of list.slice(i + 1)) {
      if (a.port !== b.port || a.proto !== b.proto || a.field === b.field) continue;
      const shared = everywhere(a).filter((h) => everywhere(b).includes(h));
      if (shared.length === 0) continue;
      const named = a.field.includes(".") ? a : b;
      const other = named === a ? b : a;
      const key = `${named.field}|${other.field}`;
      if (reported.has(key)) continue;
      reported.add(key);
      issues.add(
        named.field,
        named.port,
        `clashes with ${other.field} (${other.port}/${other.proto}) on ${shared.join(", ")}; co-located roles need distinct ports`,
      );
    }
  });
}
