import { IssueCollector } from "../../../lib/validation/issues";
import { checkEdgeXStack } from "../../../components/edgex-stack/validate";
import { CLOUD, withDefaults } from "./fixtures";

function messages(spec: object, raw = false): string[] {
  const issues = new IssueCollector();
  checkEdgeXStack(raw ? spec : withDefaults(spec as Record<string, unknown>), issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

describe("checkEdgeXStack", () => {
  test("GIVEN a nodeSelector or toleration that is no Kubernetes label key/value THEN each is refused naming the field", () => {
    expect(
      messages({
        nodeSelector: { "bad key!": "x", site: "a;b" },
        tolerations: [{ key: "-x", operator: "Equal", value: "$(id)", effect: "NoSchedule" }],
      }),
    ).toEqual([
      'edgex.nodeSelector.site "a;b" must be empty or at most 63 characters A-Z a-z 0-9 - _ . that start and end alphanumeric',
      'edgex.nodeSelector.bad key! "x" is not a valid label key: must have a name part of at most 63 characters A-Z a-z 0-9 - _ . that starts and ends alphanumeric',
      'edgex.tolerations[0].key "-x" must have a name part of at most 63 characters A-Z a-z 0-9 - _ . that starts and ends alphanumeric',
      'edgex.tolerations[0].value "$(id)" must be empty or at most 63 characters A-Z a-z 0-9 - _ . that start and end alphanumeric',
    ]);
  });

  test("GIVEN no spec WHEN checked THEN the defaults are Napa 3.1, single-pod, security on, hostPath persistence, UI off", () => {
    const issues = new IssueCollector();
    const p = checkEdgeXStack({}, issues)!;
    expect(issues.issues).toEqual([]);
    expect(p.spec).toMatchObject({
      release: "napa-3.1",
      placement: "single-pod",
      security: true,
      // the default nodeSelector picks KubeEdge edge nodes: host network there
      network: "host",
      namespace: "edgex",
    });
    expect(p.persistence).toEqual({ kind: "hostPath", path: "/var/lib/edgex" });
    expect(p.enabled).toEqual({
      "support-notifications": true,
      "support-scheduler": true,
      "rules-engine": true,
      "device-virtual": true,
      "device-rest": true,
      "device-mqtt": true,
      ui: false,
    });
  });

  test("GIVEN Hanoi with security on WHEN checked THEN it is refused, naming what to use instead", () => {
    expect(messages({ release: "hanoi-1.3", security: true })).toEqual([
      'edgex.security true cannot be used with release "hanoi-1.3": Hanoi\'s secure mode needs the PKI security-secrets-setup generates for a TLS Vault, a vault-worker that never exits and Kong with its own database (edgex-compose hanoi), which have no Kubernetes form upstream; use security: false with "hanoi-1.3", or release "napa-3.1" or "odessa-4.0" with security on',
    ]);
  });

  test("GIVEN per-service placement on KubeEdge edge nodes WHEN checked THEN it is refused, naming why", () => {
    expect(messages({ placement: "per-service", security: false }, true)).toEqual([
      'edgex.placement "per-service" cannot work on KubeEdge edge nodes (edgex.nodeSelector selects node-role.kubernetes.io/edge): per-service pods find each other through Services and cluster DNS, and edge nodes have neither kube-proxy nor cluster DNS (nor the NFS CSI node plugin the secrets volume needs); use placement "single-pod" with network "host", or select cloud nodes in edgex.nodeSelector',
    ]);
  });

  test("GIVEN single-pod on the pod network on KubeEdge edge nodes WHEN checked THEN it is refused; on cloud nodes it is the default", () => {
    expect(messages({ network: "pod" }, true)).toEqual([
      'edgex.network "pod" cannot work on KubeEdge edge nodes (edgex.nodeSelector selects node-role.kubernetes.io/edge): their CNI is node-local, with no kube-proxy or cluster DNS, so a pod-network EdgeX is unreachable and cannot resolve anything; use network "host" (the default there)',
    ]);
    const issues = new IssueCollector();
    expect(checkEdgeXStack({ nodeSelector: CLOUD }, issues)!.spec.network).toBe("pod");
  });

  test("GIVEN security on and services to expose WHEN checked THEN it is refused: no gateway is rendered", () => {
    expect(messages({ expose: ["core-data"] })).toEqual([
      "edgex.expose [\"core-data\"] must be empty with security on: EdgeX's API gateway is not rendered (its nginx configuration is generated for Docker's DNS; upstream's Kubernetes chart edgex-helm v3.1.0 uses an ingress instead), so with security every service stays inside the pod or namespace; reach them over SSH on the node (ssh -L 59880:127.0.0.1:59880), or use security: false with expose",
    ]);
  });

  test("GIVEN an unknown release WHEN checked THEN the allowed ones are listed", () => {
    expect(messages({ release: "minnesota-3.0" })).toEqual([
      'edgex.release "minnesota-3.0" is not allowed; allowed: "hanoi-1.3", "napa-3.1", "odessa-4.0"',
    ]);
  });

  test("GIVEN an arch EdgeX does not publish WHEN checked THEN it is refused", () => {
    expect(messages({ release: "hanoi-1.3", arches: ["arm"] })).toEqual([
      'edgex.arches[0] "arm" is not published by EdgeX hanoi-1.3; allowed: amd64, arm64',
    ]);
  });

  test("GIVEN per-service with security and no secrets volume WHEN checked THEN the hidden RWX need is made explicit", () => {
    expect(messages({ placement: "per-service" })).toEqual([
      'edgex.secretsVolume: is required with placement "per-service" and security on: every service mounts the secret store\'s token volume, which needs a ReadWriteMany StorageClass; set secretsVolume.storageClassName, or use placement "single-pod" (tokens stay in the pod)',
    ]);
  });

  test("GIVEN per-service on two arches of a suffix-named release WHEN checked THEN it is refused", () => {
    expect(
      messages({ placement: "per-service", security: false, release: "napa-3.1", arches: ["amd64", "arm64"] }),
    ).toEqual([
      'edgex.arches ["amd64","arm64"] has more than one arch with placement "per-service", but EdgeX napa-3.1 names images per arch (-arm64); render one EdgeXStack per arch or use placement "single-pod" (one DaemonSet per arch)',
    ]);
  });

  test("GIVEN persistence that does not fit the placement WHEN checked THEN it is refused", () => {
    expect(messages({ persistence: { kind: "pvc", storageClassName: "nfs-client" } })).toEqual([
      'edgex.persistence.kind "pvc" cannot be used with placement "single-pod" (one pod per node from a DaemonSet has no claim of its own); use "hostPath" or "ephemeral"',
    ]);
    expect(messages({ placement: "per-service", security: false, persistence: { kind: "hostPath" } })).toEqual([
      'edgex.persistence.kind "hostPath" cannot be used with placement "per-service" (a Deployment may move to another node and lose its data); use "pvc" or "ephemeral"',
    ]);
  });

  test("GIVEN host network with per-service WHEN checked THEN it is refused", () => {
    expect(messages({ placement: "per-service", security: false, network: "host" })).toEqual([
      'edgex.network "host" is only for placement "single-pod" (per-service pods would clash on node ports)',
    ]);
  });

  test("GIVEN an unknown service to expose WHEN checked THEN it is reported", () => {
    expect(messages({ release: "hanoi-1.3", expose: ["redis", "nope"] })).toEqual([
      'edgex.expose[1] "nope" is not a service of EdgeX hanoi-1.3; allowed: vault, secretstore-setup, consul, redis, bootstrap-redis, core-metadata, core-data, core-command, support-notifications, support-scheduler, kuiper, app-service-rules, device-virtual, device-rest, device-mqtt, mqtt-broker, kong-db, kong, proxy-setup, ui',
    ]);
  });

  test("GIVEN single-pod on a Kubernetes without native sidecars WHEN checked THEN it is refused", () => {
    expect(messages({ kubernetesVersion: "v1.28.9+k3s1" })).toEqual([
      'edgex.placement "single-pod" needs Kubernetes 1.29+ (native sidecar containers order the secret store and registry before core services); edgex.kubernetesVersion is v1.28.9+k3s1; use placement "per-service"',
    ]);
  });
});

describe("checkEdgeXStackSection", () => {
  test("GIVEN edge hosts of two arches and no arches in the section WHEN checked THEN arches come from the edge hosts", () => {
    const { checkEdgeXStackSection } =
      require("../../../components/edgex-stack/validate") as typeof import("../../../components/edgex-stack/validate");
    const h = (name: string, arch: string, roles: string[]) => ({ name, arch, roles }) as never;
    const issues = new IssueCollector();
    const p = checkEdgeXStackSection(
      [h("cp", "amd64", ["server"]), h("e1", "arm64", ["edge"]), h("e2", "amd64", ["edge"])],
      {},
      issues,
      "edgex",
      { kubernetesVersion: "v1.31.4+k3s1" },
    );
    expect(issues.issues).toEqual([]);
    expect(p!.arches).toEqual(["arm64", "amd64"]);
    expect(p!.spec.kubernetesVersion).toBe("v1.31.4+k3s1");
  });
});

describe("host ports", () => {
  test("GIVEN host network and KubeEdge's mosquitto on 1883 WHEN Odessa (MQTT bus) is checked THEN the clash is reported", () => {
    expect(messages({ release: "odessa-4.0", network: "host", hostPortsInUse: [1883, 10350] })).toEqual([
      'edgex.hostPortsInUse [1883,10350] clashes with edgex-mqtt-broker:1883 on the node\'s network; switch those services off (edgex.services) or use network "pod"',
    ]);
  });

  test("GIVEN host network with device-mqtt off WHEN Napa is checked THEN 1883 is free", () => {
    expect(
      messages({ release: "napa-3.1", network: "host", hostPortsInUse: [1883], services: { "device-mqtt": false } }),
    ).toEqual([]);
  });
});
