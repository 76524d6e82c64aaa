import { IssueCollector } from "../../../lib/validation/issues";
import { checkEdgeXStack } from "../../../components/edgex-stack/validate";

function messages(spec: object): string[] {
  const issues = new IssueCollector();
  checkEdgeXStack(spec, issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

describe("checkEdgeXStack", () => {
  test("GIVEN no spec WHEN checked THEN the defaults are Napa 3.1, single-pod, security on, hostPath persistence, UI off", () => {
    const issues = new IssueCollector();
    const p = checkEdgeXStack({}, issues)!;
    expect(issues.issues).toEqual([]);
    expect(p.spec).toMatchObject({
      release: "napa-3.1",
      placement: "single-pod",
      security: true,
      network: "pod",
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

  test("GIVEN exposed services with security on, or an unknown one WHEN checked THEN both are reported", () => {
    expect(messages({ release: "hanoi-1.3", expose: ["redis", "nope"] })).toEqual([
      'edgex.expose ["redis","nope"] must be empty with security on: the kong gateway is the only entry from outside the namespace',
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
