import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { droneLabels, droneSelector } from "./labels";
import { dindRegistryCaMount, pipelineRunnerEnv } from "./pipeline-access";
import { droneRpcHost } from "./server-env";
import { DroneCiProps } from "./spec";

const q = (v: string) => k8s.Quantity.fromString(v);
const NAME = "drone-runner";
/** dockerd listens on the pod's loopback only: the runner and the gc sidecar share the pod's network namespace. */
export const DIND_HOST = "tcp://127.0.0.1:2375";
/** Docker API query for containers of running Drone builds (drone-runner-docker labels them `io.drone=true`). */
const BUILDS_QUERY = "http://127.0.0.1:2375/containers/json?filters=%7B%22label%22%3A%5B%22io.drone%3Dtrue%22%5D%7D";

/**
 * dockerd's command line in the DinD sidecar: loopback TCP and the socket only, and the pod network's MTU for the
 * default bridge and every network builds create (dockerd `--mtu`, `--default-network-opt`).
 */
export function dindArgs(mtu: number): string[] {
  return [
    "dockerd",
    `--host=${DIND_HOST}`,
    "--host=unix:///var/run/docker.sock",
    "--tls=false",
    `--mtu=${mtu}`,
    `--default-network-opt=bridge=com.docker.network.driver.mtu=${mtu}`,
  ];
}

/**
 * drone-runner-docker with a privileged Docker-in-Docker sidecar and the drone/gc sidecar. Terminating pods drain:
 * both the runner (through a static busybox copied in by an init container — its image has no shell) and dockerd
 * wait in preStop until no build container is left, within `terminationGracePeriodSeconds`.
 */
export class DockerRunner extends Construct {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const r = props.spec.runner;
    if (r.kind !== "docker") throw new Error("DockerRunner needs runner.kind docker");
    const ns = r.namespace;
    const labels = droneLabels("runner");
    const registryCa = dindRegistryCaMount(props);
    new k8s.KubeSecret(this, "secrets", {
      metadata: { name: `${NAME}-secrets`, namespace: ns, labels },
      type: "Opaque",
      stringData: { DRONE_RPC_SECRET: props.rpcSecret },
    });
    new k8s.KubeConfigMap(this, "env", {
      metadata: { name: `${NAME}-env`, namespace: ns, labels },
      data: {
        DRONE_RPC_HOST: droneRpcHost(props),
        DRONE_RPC_PROTO: "http",
        DRONE_RUNNER_CAPACITY: String(r.capacity),
        DOCKER_HOST: DIND_HOST,
      },
    });
    new k8s.KubeServiceAccount(this, "sa", {
      metadata: { name: NAME, namespace: ns, labels },
      automountServiceAccountToken: false,
    });
    // The runner and gc images declare no USER (drone-runners/drone-runner-docker v1.8.4
    // docker/Dockerfile.linux.amd64): they only talk to dockerd over loopback TCP, so they run as nobody. Only the
    // DinD container is privileged (which is why the pod itself cannot be runAsNonRoot).
    const unprivileged: k8s.SecurityContext = {
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    };
    // Nothing connects to a runner (it dials the Drone server's RPC; dockerd listens on the pod's loopback only):
    // every ingress is refused. Egress stays open: builds fetch from wherever their pipelines say.
    new k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name: NAME, namespace: ns, labels },
      spec: { podSelector: { matchLabels: droneSelector("runner") }, policyTypes: ["Ingress"], ingress: [] },
    });
    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: r.replicas,
        selector: { matchLabels: droneSelector("runner") },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: r.terminationGracePeriodSeconds,
            initContainers: [
              {
                name: "drain-tools",
                image: r.drainImage,
                imagePullPolicy: "IfNotPresent",
                command: ["cp", "/bin/busybox", "/drain/busybox"],
                securityContext: unprivileged,
                volumeMounts: [{ name: "drain", mountPath: "/drain" }],
              },
            ],
            containers: [
              {
                name: "runner",
                image: r.image,
                imagePullPolicy: "IfNotPresent",
                envFrom: [{ configMapRef: { name: `${NAME}-env` } }, { secretRef: { name: `${NAME}-secrets` } }],
                env: [
                  { name: "DRONE_RUNNER_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  ...pipelineRunnerEnv(props),
                ],
                ports: [{ name: "http", containerPort: 3000, protocol: "TCP" }],
                lifecycle: {
                  preStop: {
                    exec: {
                      command: [
                        "/drain/busybox",
                        "sh",
                        "-c",
                        `while [ "$(/drain/busybox wget -qO- '${BUILDS_QUERY}' 2>/dev/null || echo '[]')" != "[]" ]; do /drain/busybox sleep 10; done`,
                      ],
                    },
                  },
                },
                resources: { requests: { cpu: q("50m"), memory: q("64Mi") }, limits: { memory: q("256Mi") } },
                securityContext: unprivileged,
                volumeMounts: [{ name: "drain", mountPath: "/drain", readOnly: true }],
              },
              {
                name: "dind",
                image: r.dindImage,
                imagePullPolicy: "IfNotPresent",
                // the first argument is `dockerd`, so the image's entrypoint adds no listener of its own: given flags
                // only, with DOCKER_TLS_CERTDIR empty it prepends --host=tcp://0.0.0.0:2375 and the second bind on
                // 2375 fails (docker-library/docker 3e8d8dec 27/dind/dockerd-entrypoint.sh:98-137); starting with
                // `dockerd` it still wraps dockerd in docker-init and picks iptables-legacy/nft (ibid. :139-187)
                args: dindArgs(r.mtu),
                env: [
                  { name: "DOCKER_TLS_CERTDIR", value: "" },
                  { name: "DOCKER_HOST", value: "unix:///var/run/docker.sock" },
                ],
                lifecycle: {
                  preStop: {
                    exec: {
                      command: [
                        "sh",
                        "-c",
                        'while [ -n "$(docker ps -q --filter label=io.drone=true)" ]; do sleep 10; done',
                      ],
                    },
                  },
                },
                // Docker-in-Docker needs it; the runner namespace is the only one whose Pod Security allows it
                securityContext: { privileged: true },
                // privileged: bounded so a runaway build cannot take the node
                resources: {
                  requests: { cpu: q("100m"), memory: q("256Mi") },
                  limits: { cpu: q("2"), memory: q("4Gi") },
                },
                volumeMounts: [
                  { name: "docker-storage", mountPath: "/var/lib/docker" },
                  ...(registryCa.mount ? [registryCa.mount] : []),
                ],
              },
              ...(r.gc
                ? [
                    {
                      name: "gc",
                      image: r.gcImage,
                      imagePullPolicy: "IfNotPresent",
                      env: [
                        { name: "DOCKER_HOST", value: DIND_HOST },
                        { name: "GC_CACHE", value: "5gb" },
                        { name: "GC_INTERVAL", value: "5m" },
                      ],
                      resources: { requests: { cpu: q("10m"), memory: q("32Mi") }, limits: { memory: q("128Mi") } },
                      securityContext: unprivileged,
                    },
                  ]
                : []),
            ],
            volumes: [
              { name: "docker-storage", emptyDir: { sizeLimit: q(r.dindStorageLimit) } },
              { name: "drain", emptyDir: { sizeLimit: q("16Mi") } },
              ...(registryCa.volume ? [registryCa.volume] : []),
            ],
          },
        },
      },
    });
  }
}
