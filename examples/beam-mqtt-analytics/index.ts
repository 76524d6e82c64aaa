/**
 * The seed's Apache Beam MQTT analytics demo on KubeEdge edge nodes, deployed with edgecloud:
 * K3s (control plane) → KubeEdge cloudcore + edge nodes joined over SSH (with the MQTT broker on each edge node)
 * → EdgeX on the edge nodes (device-mqtt feeds the same broker pattern) → the Beam pipeline on every edge node.
 *
 *   pulumi config set hostsFile ./hosts.yaml
 *   pulumi config set advertiseAddress 192.168.10.11
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { parse } from "yaml";
import { K3sHaCluster } from "../../components/k3s-ha-cluster/k3s-ha-cluster";
import { KubeEdgeCloud } from "../../components/kubeedge-cloud/kubeedge-cloud";
import { EdgeXStack } from "../../components/edgex-stack/edgex-stack";
import { HostInput } from "../../lib/hosts/host";
import { applyObjects, clusterProvider } from "../../lib/pulumi/manifests";
import { beamAnalyticsObjects } from "./beam-analytics";

const config = new pulumi.Config();
const hosts = parse(readFileSync(config.require("hostsFile"), "utf8")) as HostInput[];
const edgeArches = [...new Set(hosts.filter((h) => h.roles.includes("edge")).map((h) => h.arch))] as (
  "amd64" | "arm64"
)[];

const cluster = new K3sHaCluster("demo", { hosts });

const kubeedge = new KubeEdgeCloud("demo-kubeedge", {
  hosts,
  kubeconfig: cluster.kubeconfig,
  dependsOn: [cluster],
  spec: {
    kubernetesVersion: cluster.version,
    cloudHub: { advertiseAddress: [config.require("advertiseAddress")] },
    // the demo's pipeline talks to the broker on the edge node's localhost:1883
    mosquitto: true,
  },
});

const edgex = new EdgeXStack("demo-edgex", {
  kubeconfig: cluster.kubeconfig,
  dependsOn: [kubeedge],
  spec: {
    release: "napa-3.1",
    placement: "single-pod",
    // edge nodes have no cluster network: share the node's, internal services bind 127.0.0.1
    network: "host",
    arches: edgeArches.length > 0 ? edgeArches : ["amd64"],
    kubernetesVersion: cluster.version,
    // KubeEdge's mosquitto already holds 1883 on the node (and edgecore 10350): checked at validation
    services: { "device-mqtt": false },
    hostPortsInUse: [1883, 10350],
  },
});

const provider = clusterProvider("demo-beam-provider", cluster.kubeconfig, kubeedge);
applyObjects("demo-beam-analytics", beamAnalyticsObjects(), { parent: kubeedge, provider, dependsOn: [kubeedge] });

export const cloudcore = kubeedge.cloudcoreAddress;
export const edgeNodes = kubeedge.edgeNodes;
export const edgexEntry = edgex.entryPoints;
