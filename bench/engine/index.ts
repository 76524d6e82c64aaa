import { profileUntilExit } from "./profile";
profileUntilExit();
import * as pulumi from "@pulumi/pulumi";
import { K3sHaCluster } from "../../components/k3s-ha-cluster";
import { benchHosts, BENCH_SPEC } from "./hosts";

/**
 * The engine benchmark's program (`npm run bench:engine` previews it; nothing is ever dialed): a K3sHaCluster of
 * 3 etcd members, 3 servers and `agents` agents, executor in-process, every host reached with the key at `keyPath`.
 */
const config = new pulumi.Config();
const cluster = new K3sHaCluster("bench", {
  hosts: benchHosts(config.requireNumber("agents"), config.require("keyPath")),
  spec: BENCH_SPEC,
  executor: "in-process",
  // per-host-chain unless the bench asks otherwise (`--step-resources per-step`)
  provisioning: { stepResources: (config.get("stepResources") ?? "per-host-chain") as "per-step" | "per-host-chain" },
});

export const nodes = cluster.nodeNames.length;
