import { assertValidObjects } from "../../../lib/manifests/validate";
import { chartObjects, objectsToYaml } from "../../../lib/manifests/chart";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeXChart, entryPoints } from "../../../components/edgex-stack/chart";
import { DEFAULT_EDGEX_RELEASE, EDGEX_RELEASE_NAMES } from "../../../components/edgex-stack/release-data";
import { EdgeXStackProps } from "../../../components/edgex-stack/spec";
import { checkEdgeXStack } from "../../../components/edgex-stack/validate";
import { withDefaults } from "./fixtures";

function props(spec: object = {}): EdgeXStackProps {
  const issues = new IssueCollector();
  const p = checkEdgeXStack(withDefaults(spec as Record<string, unknown>), issues);
  issues.throwIfAny();
  return p!;
}
const render = (spec: object = {}) => chartObjects(edgeXChart(props(spec)));
const perService = {
  placement: "per-service",
  secretsVolume: { storageClassName: "nfs-client" },
  persistence: { kind: "pvc", storageClassName: "local-path" },
};
const find = (objects: any[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe("edgeXChart", () => {
  const modes = [
    ["single-pod on cloud nodes, pod network", { network: "pod" }],
    ["single-pod host network", { network: "host" }],
    ["single-pod insecure", { security: false, services: { ui: true }, expose: ["ui"] }],
    ["per-service", perService],
    ["per-service insecure", { placement: "per-service", security: false, persistence: { kind: "ephemeral" } }],
  ] as const;
  // Whole-output snapshots on amd64: every release single-pod on the host network (the bundled default's mode), and
  // the default release in every other mode but per-service insecure; each mode's own behaviour is asserted below
  // (per-service without security too), strict validity on every combination above, arm64 as an exact
  // transformation of amd64.
  const wholeOutput = (release: string, mode: string): boolean =>
    mode === "single-pod host network" || (release === DEFAULT_EDGEX_RELEASE && mode !== "per-service insecure");
  const matrix = EDGEX_RELEASE_NAMES.flatMap((release) =>
    modes
      .filter(([mode]) => wholeOutput(release, mode))
      .map(([mode, extra]) => [release, mode as string, extra as object] as const),
  );
  test.each(EDGEX_RELEASE_NAMES.flatMap((release) => modes.map(([mode, extra]) => [release, mode, extra] as const)))(
    "GIVEN %s on amd64 and arm64, %s WHEN rendered THEN every object is strictly valid",
    (release, _mode, extra) => {
      for (const arch of ["amd64", "arm64"] as const)
        expect(() => assertValidObjects(render({ release, arches: [arch], ...(extra as object) }))).not.toThrow();
    },
  );
  test.each(matrix)(
    "GIVEN %s on amd64, %s WHEN rendered THEN every object is strictly valid and matches the snapshot",
    (release, _mode, extra) => {
      const objects = render({ release, arches: ["amd64"], ...extra });
      expect(() => assertValidObjects(objects)).not.toThrow();
      expect(objectsToYaml(objects)).toMatchSnapshot();
    },
  );

  /**
   * The arm64 rendering of a release is its amd64 rendering with exactly these changes and no other: the arch
   * selector value, the per-arch DaemonSet name, and — for releases whose EdgeX images are per-arch repositories
   * (`arch: "suffix"` in release-data.ts: Hanoi, Napa) — `-arm64` appended to each `edgexfoundry/` repository
   * name. Third-party images are multi-arch and stay as they are.
   */
  function asArm64(objects: unknown[], perArchImages: boolean): unknown {
    const text = JSON.stringify(objects)
      .replaceAll('"kubernetes.io/arch":"amd64"', '"kubernetes.io/arch":"arm64"')
      .replaceAll('"edgex-amd64"', '"edgex-arm64"');
    const imaged = perArchImages
      ? text.replace(/"image":"(edgexfoundry\/[^":]+):([^"]+)"/g, '"image":"$1-arm64:$2"')
      : text;
    return JSON.parse(imaged);
  }
  test.each(matrix)(
    "GIVEN %s on arm64, %s WHEN rendered THEN every object is strictly valid and equals the amd64 rendering with only the arch, the DaemonSet name and the per-arch image names changed",
    (release, _mode, extra) => {
      const arm = render({ release, arches: ["arm64"], ...extra });
      expect(() => assertValidObjects(arm)).not.toThrow();
      const amd = render({ release, arches: ["amd64"], ...extra });
      const perArchImages = release !== "odessa-4.0";
      expect(arm).toEqual(asArm64(amd, perArchImages));
      // the transformation is not the identity where it must not be
      if (perArchImages) expect(arm).not.toEqual(amd);
    },
  );

  test.each(EDGEX_RELEASE_NAMES)(
    "GIVEN %s single-pod with every service WHEN rendered THEN no two containers of the pod listen on one port",
    (release) => {
      const ds = render({ release, services: { ui: true } }).find((o) => o.kind === "DaemonSet") as any;
      const ports = [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers].flatMap((c: any) =>
        (c.ports ?? []).map((p: any) => p.containerPort),
      );
      expect(new Set(ports).size).toBe(ports.length);
      // port names too: the API server warns on a name used twice in one pod
      const names = [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers].flatMap((c: any) =>
        (c.ports ?? []).map((p: any) => p.name),
      );
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/);
    },
  );

  test("GIVEN Hanoi on arm64 WHEN rendered THEN EdgeX images use the -arm64 names and third-party images stay multi-arch", () => {
    const ds = find(render({ release: "hanoi-1.3", arches: ["arm64"] }), "DaemonSet", "edgex-arm64");
    const images = [...ds.spec.template.spec.initContainers, ...ds.spec.template.spec.containers].map(
      (c: any) => c.image,
    );
    expect(images).toEqual(
      expect.arrayContaining([
        "edgexfoundry/docker-core-data-go-arm64:1.3.1",
        "edgexfoundry/docker-edgex-consul-arm64:1.3.0",
        "redis:6.0.9-alpine",
        // device-rest-go has no 1.3.x tag (edgex-compose hanoi compose-builder/.env DEVICE_REST_VERSION=1.2.1)
        "edgexfoundry/docker-device-rest-go-arm64:1.2.1",
      ]),
    );
    expect(images).not.toContain("edgexfoundry/docker-device-rest-go-arm64:1.3.1");
    expect(ds.spec.template.spec.nodeSelector).toEqual({
      "node-role.kubernetes.io/edge": "",
      "kubernetes.io/arch": "arm64",
    });
    expect(ds.spec.template.spec.tolerations).toEqual([
      { key: "node-role.kubernetes.io/edge", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  test("GIVEN Napa on mixed arm64/amd64 edge nodes WHEN rendered single-pod THEN one DaemonSet per arch (not per node)", () => {
    const objects = render({ release: "napa-3.1", arches: ["amd64", "arm64"] });
    expect(objects.filter((o) => o.kind === "DaemonSet").map((o) => o.metadata.name)).toEqual([
      "edgex-amd64",
      "edgex-arm64",
    ]);
  });

  test("GIVEN Odessa (multi-arch images) on both arches WHEN rendered THEN a single DaemonSet without an arch selector", () => {
    const objects = render({ release: "odessa-4.0", arches: ["amd64", "arm64"] });
    const ds = objects.filter((o) => o.kind === "DaemonSet") as any[];
    expect(ds.map((o) => o.metadata.name)).toEqual(["edgex"]);
    expect(ds[0].spec.template.spec.nodeSelector).toEqual({ "node-role.kubernetes.io/edge": "" });
    const images = ds[0].spec.template.spec.containers.map((c: any) => c.image);
    expect(images).toContain("edgexfoundry/core-data:4.0.1");
  });

  test("GIVEN Napa single-pod with security WHEN rendered THEN the security-bootstrapper starts first and every service starts through its stage-gate wrapper", () => {
    const ds = find(render({ release: "napa-3.1" }), "DaemonSet", "edgex-amd64").spec.template.spec;
    const init = ds.initContainers.map((c: any) => `${c.name}${c.restartPolicy === "Always" ? "*" : ""}`);
    expect(init).toEqual([
      "volume-permissions",
      "prefill-kuiper-sources",
      "prefill-kuiper-connections",
      "edgex-security-bootstrapper*",
    ]);
    expect(ds.initContainers[3].startupProbe).toEqual({
      tcpSocket: { port: 54321 },
      periodSeconds: 2,
      failureThreshold: 150,
    });
    expect(ds.initContainers[3].volumeMounts).toContainEqual({ name: "edgex-init", mountPath: "/edgex-init" });
    const byName = (n: string) => ds.containers.find((c: any) => c.name === n);
    const core = byName("edgex-core-data");
    expect(core.command).toEqual(["/edgex-init/ready_to_run_wait_install.sh"]);
    expect(core.args).toEqual(["/core-data", "--registry"]);
    expect(core.env).toEqual(
      expect.arrayContaining([
        { name: "EDGEX_CONFIG_PROVIDER", value: "consul.http://localhost:8500" },
        { name: "STAGEGATE_BOOTSTRAPPER_HOST", value: "localhost" },
        { name: "STAGEGATE_READY_TORUNPORT", value: "54329" },
        { name: "SECRETSTORE_HOST", value: "localhost" },
      ]),
    );
    expect(core.volumeMounts).toEqual([
      { name: "edgex-secrets", mountPath: "/tmp/edgex/secrets/core-data", subPath: "core-data", readOnly: true },
      { name: "edgex-init", mountPath: "/edgex-init", readOnly: true },
    ]);
    expect(core.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 2002,
      runAsGroup: 2001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(byName("edgex-consul").command).toEqual(["/edgex-init/consul_wait_install.sh"]);
    expect(byName("edgex-vault").command).toEqual(["/edgex-init/vault_wait_install.sh"]);
    expect(byName("edgex-security-secretstore-setup").volumeMounts).toContainEqual({
      name: "edgex-secrets",
      mountPath: "/tmp/edgex/secrets",
    });
    // the run-once config bootstrapper stays up after its run, so the pod stays ready
    const boot = byName("edgex-core-common-config-bootstrapper");
    expect(boot.command).toEqual(["/bin/sh", "-c", '"$0" "$@" && while :; do sleep 3600; done']);
    expect(boot.args).toEqual([
      "/edgex-init/ready_to_run_wait_install.sh",
      "/entrypoint.sh",
      "/core-common-config-bootstrapper",
      "--registry",
    ]);
    // edgex-helm v3.1.0 ships no API gateway: neither nginx nor its setup and auth services
    for (const n of ["edgex-nginx", "edgex-security-proxy-setup", "edgex-proxy-auth"])
      expect(byName(n)).toBeUndefined();
    expect(ds.volumes.map((v: any) => v.name)).toEqual(
      expect.arrayContaining(["edgex-init", "shared-secret-store-config", "shared-kuiper-sources"]),
    );
    expect(ds.enableServiceLinks).toBe(false);
    expect(ds.automountServiceAccountToken).toBe(false);
  });

  test("GIVEN Napa single-pod without security WHEN rendered THEN registry and database start first as sidecars, the config bootstrapper runs once before the services", () => {
    const ds = find(render({ release: "napa-3.1", security: false }), "DaemonSet", "edgex-amd64").spec.template.spec;
    const init = ds.initContainers.map((c: any) => `${c.name}${c.restartPolicy === "Always" ? "*" : ""}`);
    expect(init).toEqual([
      "volume-permissions",
      "edgex-consul*",
      "edgex-redis*",
      "edgex-mqtt-broker*",
      "edgex-core-common-config-bootstrapper",
    ]);
    const core = ds.containers.find((c: any) => c.name === "edgex-core-data");
    expect(core.command).toBeUndefined();
    expect(core.env).toContainEqual({ name: "EDGEX_SECURITY_SECRET_STORE", value: "false" });
    expect(core.readinessProbe.httpGet).toEqual({ path: "/api/v3/ping", port: 59880 });
    expect(core.volumeMounts).toBeUndefined();
  });

  test("GIVEN single-pod on the pod network WHEN rendered THEN only exposed services get a hostPort and only they are open to outside by NetworkPolicy; with security nothing is", () => {
    const secure = render({ release: "napa-3.1", network: "pod" });
    const ports = (objects: any[]) =>
      [
        ...find(objects, "DaemonSet", "edgex-amd64").spec.template.spec.initContainers,
        ...find(objects, "DaemonSet", "edgex-amd64").spec.template.spec.containers,
      ]
        .filter((c: any) => (c.ports ?? []).some((p: any) => p.hostPort))
        .map((c: any) => c.name);
    expect(ports(secure)).toEqual([]);
    expect(find(secure, "NetworkPolicy", "edgex-allow-entry")).toBeUndefined();
    expect(find(secure, "NetworkPolicy", "edgex-default-deny-ingress").spec).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
    });
    const open = render({
      release: "napa-3.1",
      network: "pod",
      security: false,
      services: { ui: true },
      expose: ["ui"],
    });
    expect(ports(open)).toEqual(["edgex-ui"]);
    expect(find(open, "NetworkPolicy", "edgex-allow-entry").spec.ingress).toEqual([
      { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 4000, protocol: "TCP" }] },
    ]);
  });

  test("GIVEN single-pod on the host network WHEN rendered THEN internal services bind 127.0.0.1 and the gateway 0.0.0.0", () => {
    const ds = find(render({ release: "hanoi-1.3", network: "host" }), "DaemonSet", "edgex-amd64").spec.template.spec;
    expect(ds.hostNetwork).toBe(true);
    expect(ds.dnsPolicy).toBe("ClusterFirstWithHostNet");
    const all = [...ds.initContainers, ...ds.containers];
    expect(all.find((c: any) => c.name === "edgex-redis").args).toEqual([
      "redis-server",
      "--bind",
      "127.0.0.1",
      "--dir",
      "/data",
    ]);
    expect(all.find((c: any) => c.name === "edgex-consul").args).toContain("-client=127.0.0.1");
    expect(all.find((c: any) => c.name === "edgex-core-data").env).toContainEqual({
      name: "SERVICE_SERVERBINDADDR",
      value: "127.0.0.1",
    });
  });

  test("GIVEN per-service mode with security WHEN rendered THEN one Deployment + Service per service, the gates reached through the bootstrapper's Service, shared volumes as subdirectories of the one RWX claim", () => {
    const objects = render({ release: "napa-3.1", ...perService });
    expect(find(objects, "Service", "edgex-redis").spec.type).toBe("ClusterIP");
    expect(find(objects, "Service", "edgex-nginx")).toBeUndefined();
    expect(find(objects, "Service", "edgex-security-bootstrapper").spec.ports.map((p: any) => p.port)).toEqual([
      54321, 54322, 54324, 54325, 54329,
    ]);
    const core = find(objects, "Deployment", "edgex-core-data");
    expect(core.spec.strategy).toEqual({ type: "Recreate" });
    expect(core.spec.template.spec.initContainers).toBeUndefined();
    const c = core.spec.template.spec.containers[0];
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: "EDGEX_CONFIG_PROVIDER", value: "consul.http://edgex-consul:8500" },
        { name: "STAGEGATE_BOOTSTRAPPER_HOST", value: "edgex-security-bootstrapper" },
      ]),
    );
    expect(c.volumeMounts).toEqual([
      {
        name: "edgex-secrets",
        mountPath: "/tmp/edgex/secrets/core-data",
        subPath: "secrets/core-data",
        readOnly: true,
      },
      { name: "edgex-secrets", mountPath: "/edgex-init", subPath: "edgex-init", readOnly: true },
    ]);
    expect(
      find(objects, "Job", "edgex-core-common-config-bootstrapper").spec.template.spec.containers[0].command,
    ).toEqual(["/edgex-init/ready_to_run_wait_install.sh"]);
    expect(find(objects, "PersistentVolumeClaim", "data-redis").spec.accessModes).toEqual(["ReadWriteOnce"]);
    const rwx = objects
      .filter((o: any) => o.kind === "PersistentVolumeClaim" && o.spec.accessModes.includes("ReadWriteMany"))
      .map((o) => o.metadata.name);
    expect(rwx).toEqual(["edgex-secrets"]); // only the one the user asked for
    expect(objects.filter((o: any) => o.kind === "NetworkPolicy" && o.metadata.name.startsWith("allow-entry"))).toEqual(
      [],
    );
  });

  test("GIVEN per-service mode without security WHEN rendered THEN dependencies are awaited by init containers", () => {
    const objects = render({
      release: "napa-3.1",
      placement: "per-service",
      security: false,
      persistence: { kind: "ephemeral" },
    });
    const core = find(objects, "Deployment", "edgex-core-data");
    expect(core.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual([
      "wait-consul",
      "wait-redis",
      "wait-core-metadata",
    ]);
    expect(core.spec.template.spec.initContainers[0].command).toEqual([
      "sh",
      "-c",
      "until nc -z edgex-consul 8500; do echo waiting for edgex-consul; sleep 2; done",
    ]);
  });

  test("GIVEN per-service without security WHEN rendered THEN no secret store or gateway, no RWX claim, and nothing is open from outside unless exposed", () => {
    const objects = render({
      release: "odessa-4.0",
      placement: "per-service",
      security: false,
      persistence: { kind: "ephemeral" },
    });
    expect(
      objects.some(
        (o) =>
          o.metadata.name === "edgex-secret-store" ||
          o.metadata.name === "edgex-nginx" ||
          o.metadata.name === "edgex-security-bootstrapper",
      ),
    ).toBe(false);
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim")).toBe(false);
    expect(objects.filter((o) => o.kind === "NetworkPolicy").map((o) => o.metadata.name)).toEqual([
      "edgex-default-deny-ingress",
      "edgex-allow-same-namespace",
    ]);
    expect(find(objects, "Deployment", "edgex-core-keeper")).toBeDefined();
    expect(find(objects, "Deployment", "edgex-postgres")).toBeDefined();
    expect(find(objects, "Deployment", "edgex-device-mqtt").spec.template.spec.containers[0].env).toContainEqual({
      name: "MQTTBROKERINFO_HOST",
      value: "edgex-mqtt-broker",
    });
  });

  test("GIVEN optional services switched off WHEN rendered THEN they and their broker are gone", () => {
    const objects = render({
      release: "napa-3.1",
      placement: "per-service",
      security: false,
      persistence: { kind: "ephemeral" },
      services: { "device-mqtt": false, "rules-engine": false },
    });
    const names = objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name);
    expect(names).not.toContain("edgex-device-mqtt");
    expect(names).not.toContain("edgex-mqtt-broker");
    expect(names).not.toContain("edgex-kuiper");
    expect(names).toContain("edgex-device-virtual");
  });

  const env = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));
  const containersOf = (objects: any[], name = "edgex-amd64") => {
    const ds = find(objects, "DaemonSet", name).spec.template.spec;
    return Object.fromEntries([...ds.initContainers, ...ds.containers].map((c: any) => [c.name, c]));
  };

  test("GIVEN Napa secure with device-mqtt on (the default environment) WHEN rendered THEN device-mqtt gets a secret-store token, its known secrets and a registry ACL role, as compose-builder's ds-mqtt adds them", () => {
    const c = containersOf(render({ release: "napa-3.1", arches: ["amd64"] }));
    const setup = env(c["edgex-security-secretstore-setup"]);
    expect(setup.EDGEX_ADD_SECRETSTORE_TOKENS).toBe("device-mqtt");
    expect(setup.EDGEX_ADD_KNOWN_SECRETS.split(",")).toEqual(
      expect.arrayContaining(["redisdb[device-mqtt]", "message-bus[device-mqtt]", "redisdb[app-rules-engine]"]),
    );
    expect(env(c["edgex-consul"]).EDGEX_ADD_REGISTRY_ACL_ROLES).toBe("device-mqtt");
    expect(env(c["edgex-device-mqtt"])).toMatchObject({
      MQTTBROKERINFO_AUTHMODE: "none",
      MQTTBROKERINFO_CREDENTIALSNAME: "message-bus",
    });
    expect(c["edgex-device-mqtt"].volumeMounts).toContainEqual({
      name: "edgex-secrets",
      mountPath: "/tmp/edgex/secrets/device-mqtt",
      subPath: "device-mqtt",
      readOnly: true,
    });
    const off = containersOf(render({ release: "napa-3.1", services: { "device-mqtt": false } }));
    expect(env(off["edgex-security-secretstore-setup"]).EDGEX_ADD_SECRETSTORE_TOKENS).toBe("");
    expect(env(off["edgex-consul"]).EDGEX_ADD_REGISTRY_ACL_ROLES).toBe("");
  });

  test.each([
    ["napa-3.1", ["edgex-consul", "edgex-redis"], "edgex-vault"],
    ["odessa-4.0", ["edgex-postgres", "edgex-mqtt-broker"], "edgex-secret-store"],
  ])(
    "GIVEN %s per-service with security WHEN rendered THEN %j read their credentials from the secret store's Service (SECRETSTORE_HOST)",
    (release, services, host) => {
      const objects = render({ release, ...perService });
      for (const n of services) {
        const c = find(objects, "Deployment", n).spec.template.spec.containers[0];
        expect(env(c)).toMatchObject({ SECRETSTORE_HOST: host, EDGEX_SECURITY_SECRET_STORE: "true" });
      }
    },
  );

  test("GIVEN secure Napa single-pod WHEN rendered THEN eKuiper and the secret-store setup share the source and connection folders (prefilled from the eKuiper image) the bus credentials are written to", () => {
    const objects = render({ release: "napa-3.1" });
    const c = containersOf(objects);
    expect(c["edgex-kuiper"].volumeMounts).toEqual(
      expect.arrayContaining([
        { name: "shared-kuiper-sources", mountPath: "/kuiper/etc/sources" },
        { name: "shared-kuiper-connections", mountPath: "/kuiper/etc/connections" },
      ]),
    );
    expect(c["edgex-security-secretstore-setup"].volumeMounts).toEqual(
      expect.arrayContaining([
        { name: "shared-kuiper-sources", mountPath: "/tmp/kuiper" },
        { name: "shared-kuiper-connections", mountPath: "/tmp/kuiper-connections" },
      ]),
    );
    expect(c["prefill-kuiper-sources"]).toMatchObject({
      image: "lfedge/ekuiper:1.11.4-alpine",
      command: ["sh", "-c", "cp -Rn /kuiper/etc/sources/. /prefill/"],
      volumeMounts: [{ name: "shared-kuiper-sources", mountPath: "/prefill" }],
    });
  });

  test("GIVEN single-pod on the host network with hostPath persistence WHEN rendered THEN the secret store's config folder (root token, unseal keys) persists next to its data", () => {
    const ds = find(render({ release: "napa-3.1" }), "DaemonSet", "edgex-amd64").spec.template.spec;
    const vol = (n: string) => ds.volumes.find((v: any) => v.name === n);
    expect(vol("data-vault").hostPath.path).toBe("/var/lib/edgex/edgex/vault");
    expect(vol("shared-secret-store-config")).toEqual({
      name: "shared-secret-store-config",
      hostPath: { path: "/var/lib/edgex/edgex/secret-store-config", type: "DirectoryOrCreate" },
    });
  });

  test.each(["napa-3.1", "odessa-4.0"])(
    "GIVEN %s secure on the host network (the default on edge nodes) WHEN rendered THEN nothing listens beyond 127.0.0.1: broker, eKuiper, Consul, Redis and Postgres are bound to loopback where upstream's scripts hard-code wildcards",
    (release) => {
      const objects = render({ release });
      const ds = find(
        objects,
        release === "odessa-4.0" ? "DaemonSet" : "DaemonSet",
        release === "odessa-4.0" ? "edgex" : "edgex-amd64",
      ).spec.template.spec;
      expect(ds.hostNetwork).toBe(true);
      const c = Object.fromEntries([...ds.initContainers, ...ds.containers].map((x: any) => [x.name, x]));
      const cm = find(objects, "ConfigMap", "edgex-loopback").data;
      expect(cm["mosquitto.conf"]).toContain("listener 1883 127.0.0.1\n");
      expect(env(c["edgex-kuiper"])).toMatchObject({
        KUIPER__BASIC__RESTIP: "127.0.0.1",
        KUIPER__BASIC__IP: "127.0.0.1",
      });
      for (const x of Object.values(c) as any[]) {
        const e = env(x);
        if (e.SERVICE_SERVERBINDADDR !== undefined) expect(e.SERVICE_SERVERBINDADDR).toBe("127.0.0.1");
      }
      if (release === "napa-3.1") {
        const local = JSON.parse(env(c["edgex-consul"]).CONSUL_LOCAL_CONFIG);
        expect(local).toMatchObject({ bind_addr: "127.0.0.1", addresses: { http: "127.0.0.1" }, ports: { dns: -1 } });
        expect(env(c["edgex-redis"]).PATH.startsWith("/edgecloud/bin:")).toBe(true);
        expect(cm["redis-server"]).toContain('exec /usr/local/bin/redis-server "$@" --bind 127.0.0.1');
        // device-mqtt's broker: not the image's anonymous all-interface config
        expect(c["edgex-mqtt-broker"].command).toEqual(["/usr/sbin/mosquitto", "-c", "/edgecloud/mosquitto.conf"]);
      } else {
        expect(c["edgex-postgres"].args).toEqual(["-c", "listen_addresses=localhost"]);
        expect(env(c["edgex-mqtt-broker"]).ENTRYPOINT).toBe("/edgecloud/mosquitto-loopback.sh");
        expect(cm["mosquitto-loopback.sh"]).toContain("listener \\1 127.0.0.1");
      }
      expect(find(objects, "Service", "edgex-nginx")).toBeUndefined();
    },
  );

  test("GIVEN Napa without security on the host network WHEN rendered THEN Consul gets -bind 127.0.0.1 (it exits on multi-NIC hosts without it) and the broker its loopback config", () => {
    const c = containersOf(render({ release: "napa-3.1", security: false }));
    expect(c["edgex-consul"].args).toEqual(expect.arrayContaining(["-client=127.0.0.1", "-bind=127.0.0.1"]));
    expect(c["edgex-mqtt-broker"].volumeMounts).toContainEqual({
      name: "edgex-loopback",
      mountPath: "/edgecloud",
      readOnly: true,
    });
  });

  test("GIVEN the entry points WHEN asked THEN none with security (no gateway is rendered), the exposed services without", () => {
    expect(entryPoints(props({ release: "napa-3.1" }))).toEqual([]);
    expect(
      entryPoints(props({ release: "napa-3.1", security: false, services: { ui: true }, expose: ["ui"] })),
    ).toEqual([{ service: "edgex-ui", ports: [4000] }]);
  });
});
