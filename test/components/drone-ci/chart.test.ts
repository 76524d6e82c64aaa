import { DroneCiChart, DroneCiProps } from "../../../components/drone-ci";
import { assertValidObjects, chartObjects, KubeObject, newApp, objectsToYaml } from "../../../lib/manifests";
import { droneProps, GOGS_IN_CLUSTER } from "./props";

function render(props: DroneCiProps): KubeObject[] {
  const objects = chartObjects(new DroneCiChart(newApp(), "drone", props));
  assertValidObjects(objects);
  return objects;
}
const find = (objects: KubeObject[], kind: string, name?: string): any =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const nsLevel = (objects: KubeObject[], name: string) =>
  find(objects, "Namespace", name).metadata.labels["pod-security.kubernetes.io/enforce"];
const SECRET_VALUES =
  /rpc-0123456789abcdef|0123456789abcdef0123456789abcdef|client-secret-value|git-secret-key|pg-password/;

describe("DroneCiChart", () => {
  describe("GIVEN an in-cluster Gogs and the docker runner", () => {
    const objects = render(droneProps(GOGS_IN_CLUSTER));

    test("THEN the server is configured scheme-less, with Gogs as provider, and no secret outside Secrets", () => {
      expect(find(objects, "ConfigMap", "drone-server-env").data).toMatchObject({
        DRONE_SERVER_HOST: "drone.edge.lan",
        DRONE_SERVER_PROTO: "http",
        DRONE_GOGS_SERVER: "http://gogs.git.svc.cluster.local:3000",
        DRONE_DATABASE_DRIVER: "sqlite3",
      });
      expect(find(objects, "Secret", "drone-server-secrets").stringData).toEqual({
        DRONE_RPC_SECRET: "rpc-0123456789abcdef",
        DRONE_DATABASE_SECRET: "0123456789abcdef0123456789abcdef",
      });
      expect(JSON.stringify(objects.filter((o) => o.kind !== "Secret"))).not.toMatch(SECRET_VALUES);
    });

    test("THEN runners reach the RPC through the in-cluster Service, and only they (plus Gogs webhooks) pass the NetworkPolicy", () => {
      expect(find(objects, "ConfigMap", "drone-runner-env").data).toEqual({
        DRONE_RPC_HOST: "drone-server.drone.svc.cluster.local",
        DRONE_RPC_PROTO: "http",
        DRONE_RUNNER_CAPACITY: "2",
        DOCKER_HOST: "tcp://127.0.0.1:2375",
      });
      const np = find(objects, "NetworkPolicy").spec;
      expect(np.podSelector).toEqual({
        matchLabels: { "app.kubernetes.io/name": "drone", "app.kubernetes.io/component": "server" },
      });
      expect(np.ingress[0].from).toEqual([
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "drone-runner" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "drone", "app.kubernetes.io/component": "runner" } },
        },
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "git" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "gogs", "app.kubernetes.io/component": "gogs" } },
        },
      ]);
      expect(np.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8080 }]);
    });

    test("THEN only the runner namespace may run privileged pods, and only DinD is privileged", () => {
      expect(nsLevel(objects, "drone")).toBe("restricted");
      expect(nsLevel(objects, "drone-runner")).toBe("privileged");
      expect(nsLevel(objects, "git")).toBe("restricted"); // Gogs runs as git, non-root (git-service.ts)
      const privileged = objects
        .filter((o) => o.kind === "Deployment")
        .flatMap((d: any) =>
          d.spec.template.spec.containers
            .filter((c: any) => c.securityContext?.privileged)
            .map((c: any) => `${d.metadata.namespace}/${d.metadata.name}/${c.name}`),
        );
      expect(privileged).toEqual(["drone-runner/drone-runner/dind"]);
    });

    test("THEN the runner drains: preStop waits for build containers within a one-hour grace period, with a gc sidecar", () => {
      const pod = find(objects, "Deployment", "drone-runner").spec.template.spec;
      expect(pod.terminationGracePeriodSeconds).toBe(3600);
      expect(pod.containers.map((c: any) => c.name)).toEqual(["runner", "dind", "gc"]);
      expect(pod.containers[0].lifecycle.preStop.exec.command[0]).toBe("/drain/busybox");
      expect(pod.containers[1].lifecycle.preStop.exec.command[2]).toContain("label=io.drone=true");
    });

    test("THEN dockerd listens on loopback TCP and its socket only: the args start with `dockerd`, so the dind entrypoint (which prepends --host=tcp://0.0.0.0:2375 to flag-only args) adds no listener that would collide on 2375", () => {
      const dind = find(objects, "Deployment", "drone-runner").spec.template.spec.containers[1];
      expect(dind.command).toBeUndefined(); // the image's entrypoint still wraps dockerd in docker-init
      const args: string[] = dind.args;
      expect(args[0]).toBe("dockerd"); // docker-library/docker 27/dind/dockerd-entrypoint.sh: `"${1#-}" != "$1"` is false
      const hosts = args.filter((a) => a.startsWith("--host="));
      expect(hosts).toEqual(["--host=tcp://127.0.0.1:2375", "--host=unix:///var/run/docker.sock"]);
      expect(args.join(" ")).not.toContain("0.0.0.0");
      expect(dind.image).toBe("docker:27.5.1-dind");
      expect(dind.resources.limits).toEqual({ cpu: "2", memory: "4Gi" });
      const vols = find(objects, "Deployment", "drone-runner").spec.template.spec.volumes;
      expect(vols.find((v: any) => v.name === "docker-storage").emptyDir).toEqual({ sizeLimit: "20Gi" });
      // the pod network's MTU (flannel vxlan by default) for the bridge and every build network
      expect(args).toEqual(
        expect.arrayContaining(["--mtu=1450", "--default-network-opt=bridge=com.docker.network.driver.mtu=1450"]),
      );
    });

    test("THEN the server runs non-root on 8080 behind a Service on 80 with /healthz probes and a SQLite PVC", () => {
      const pod = find(objects, "Deployment", "drone-server").spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(pod.containers[0].ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      expect(pod.containers[0].readinessProbe.httpGet.path).toBe("/healthz");
      expect(find(objects, "Service", "drone-server").spec.ports).toEqual([
        { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      ]);
      expect(find(objects, "PersistentVolumeClaim", "drone-server-data").spec.resources.requests.storage).toBe("8Gi");
    });

    test("THEN Gogs gets its app.ini from a Secret with the install locked and Drone's URL", () => {
      const ini: string = find(objects, "Secret", "gogs-config").stringData["app.ini"];
      expect(ini).toContain("INSTALL_LOCK = true");
      expect(ini).toContain("[auth]\nDISABLE_REGISTRATION = true");
      // Gogs 0.13 delivers a webhook only when its URL's hostname is in LOCAL_NETWORK_ALLOWLIST (a private address
      // is blocked otherwise): the host Drone registers its hooks under must be listed
      const env = find(objects, "ConfigMap", "drone-server-env").data;
      const hook = new URL(`${env.DRONE_SERVER_PROTO}://${env.DRONE_SERVER_HOST}/hook`);
      const allow = /^LOCAL_NETWORK_ALLOWLIST = (.*)$/m
        .exec(ini)![1]!
        .split(",")
        .map((h) => h.trim());
      expect(allow).toContain(hook.hostname);
      expect(ini).toContain("EXTERNAL_URL = http://gogs.git.svc.cluster.local:3000/");
      expect(ini).toContain("SECRET_KEY = git-secret-key");
      expect(find(objects, "PersistentVolumeClaim", "gogs-data")).toBeDefined();
    });

    test("THEN Gogs runs `gogs web` as git (uid 1000) without root: non-root, no capabilities, no privilege escalation, read-only root, RuntimeDefault seccomp, with the work dir, user and home the image's root entrypoint would set", () => {
      const pod = find(objects, "Deployment", "gogs").spec.template.spec;
      expect(pod.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      });
      const hardened = {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      };
      for (const c of [...pod.initContainers, ...pod.containers])
        expect([c.name, c.securityContext]).toEqual([c.name, hardened]);
      const gogs = pod.containers[0];
      expect(gogs.command).toEqual(["/app/gogs/gogs", "web"]); // not the image's root-only start.sh / s6
      expect(gogs.env).toEqual([
        { name: "GOGS_CUSTOM", value: "/data/gogs" },
        { name: "GOGS_WORK_DIR", value: "/data/gogs" },
        { name: "USER", value: "git" }, // app.ini RUN_USER = git
        { name: "HOME", value: "/data/git" },
      ]);
      expect(find(objects, "Secret", "gogs-config").stringData["app.ini"]).toMatch(/^RUN_USER = git$/m);
      expect(gogs.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
      // the init container runs as git too: no chown, the config readable through the fsGroup
      expect(pod.initContainers[0].command.join(" ")).not.toContain("chown");
      expect(pod.volumes).toContainEqual({ name: "config", secret: { secretName: "gogs-config", defaultMode: 0o440 } });
    });

    test("THEN Gogs's NetworkPolicy admits its HTTP port from the Drone server and the runner only, and lets it out to DNS, the Drone server's port and HTTP(S)", () => {
      const np = find(objects, "NetworkPolicy", "gogs");
      expect(np.metadata.namespace).toBe("git");
      const server = {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "drone" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "drone", "app.kubernetes.io/component": "server" } },
      };
      expect(np.spec).toEqual({
        podSelector: { matchLabels: { "app.kubernetes.io/name": "gogs", "app.kubernetes.io/component": "gogs" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              server,
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "drone-runner" } },
                podSelector: {
                  matchLabels: { "app.kubernetes.io/name": "drone", "app.kubernetes.io/component": "runner" },
                },
              },
            ],
            ports: [{ protocol: "TCP", port: 3000 }],
          },
        ],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: [server], ports: [{ protocol: "TCP", port: 8080 }] },
          {
            ports: [
              { protocol: "TCP", port: 80 },
              { protocol: "TCP", port: 443 },
            ],
          },
        ],
      });
    });

    test("THEN the runner pods admit no connection at all (NetworkPolicy with no ingress rule), and its unprivileged containers run as nobody", () => {
      const np = find(objects, "NetworkPolicy", "drone-runner");
      expect([np.metadata.namespace, np.spec]).toEqual([
        "drone-runner",
        {
          podSelector: { matchLabels: { "app.kubernetes.io/name": "drone", "app.kubernetes.io/component": "runner" } },
          policyTypes: ["Ingress"],
          ingress: [],
        },
      ]);
      const pod = find(objects, "Deployment", "drone-runner").spec.template.spec;
      for (const c of [...pod.initContainers, ...pod.containers].filter((c: any) => c.name !== "dind"))
        expect([c.name, c.securityContext.runAsNonRoot, c.securityContext.runAsUser]).toEqual([c.name, true, 65534]);
    });

    test("THEN the manifest matches the snapshot", () => {
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN an in-cluster Gitea, an Ingress with TLS and the kube runner", () => {
    const objects = render(
      droneProps({
        server: {
          host: "drone.example.com",
          ingress: { className: "traefik", tlsSecretName: "drone-tls" },
          adminUser: "ops",
        },
        provider: { kind: "gitea", clientId: "drone-app", clientSecret: "client-secret-value" },
        git: { kind: "gitea", rootUrl: "https://git.example.com" },
        runner: { kind: "kube" },
      }),
    );

    test("THEN the OAuth client secret is in the Secret and the id in the ConfigMap", () => {
      expect(find(objects, "Secret", "drone-server-secrets").stringData.DRONE_GITEA_CLIENT_SECRET).toBe(
        "client-secret-value",
      );
      expect(find(objects, "ConfigMap", "drone-server-env").data).toMatchObject({
        DRONE_GITEA_SERVER: "https://git.example.com",
        DRONE_GITEA_CLIENT_ID: "drone-app",
        DRONE_USER_CREATE: "username:ops,admin:true",
      });
      expect(JSON.stringify(objects.filter((o) => o.kind !== "Secret"))).not.toMatch(SECRET_VALUES);
    });

    test("THEN Gitea allows webhooks to Drone and keeps its generated secrets stable", () => {
      expect(find(objects, "ConfigMap", "gitea-env").data.GITEA__webhook__ALLOWED_HOST_LIST).toBe("drone.example.com");
      expect(find(objects, "Secret", "gitea-secrets").stringData.GITEA__oauth2__JWT_SECRET).toBe(
        Buffer.alloc(32, 0xab).toString("base64url"),
      );
    });

    test("THEN the kube runner's rights are a Role in the build namespace only", () => {
      expect(objects.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
      expect(find(objects, "Role").metadata.namespace).toBe("drone-builds");
      expect(find(objects, "RoleBinding").subjects).toEqual([
        { kind: "ServiceAccount", name: "drone-runner-kube", namespace: "drone-runner" },
      ]);
      expect(nsLevel(objects, "drone-runner")).toBe("baseline");
      expect(nsLevel(objects, "drone-builds")).toBe("baseline");
    });

    test("THEN the kube runner runs as nobody with a read-only root, admits no connection, and Gitea is reachable from the build namespace (where builds clone)", () => {
      const pod = find(objects, "Deployment", "drone-runner-kube").spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 });
      expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
      expect(pod.containers[0].image).toBe("drone/drone-runner-kube:1.0.0-rc.5");
      expect(find(objects, "NetworkPolicy", "drone-runner-kube").spec.ingress).toEqual([]);
      expect(find(objects, "NetworkPolicy", "gitea").spec.ingress[0].from[1]).toEqual({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "drone-builds" } },
      });
    });

    test("THEN the Ingress and the ingress controller's namespace are let through", () => {
      expect(find(objects, "Ingress").spec).toMatchObject({
        ingressClassName: "traefik",
        tls: [{ hosts: ["drone.example.com"], secretName: "drone-tls" }],
      });
      expect(find(objects, "NetworkPolicy").spec.ingress[0].from).toContainEqual({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      });
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN GitHub and an external Postgres", () => {
    const objects = render(
      droneProps({
        server: {
          host: "ci.example.com:8443",
          database: { driver: "postgres", datasource: "postgres://drone:pg-password@db:5432/drone" },
          allowFrom: ["192.168.0.0/16"],
        },
        provider: { kind: "github", clientId: "gh-id", clientSecret: "client-secret-value" },
        runner: { kind: "docker", gc: false, replicas: 2 },
      }),
    );
    test("THEN the datasource is secret, there is no data PVC, and no gc sidecar", () => {
      expect(find(objects, "Secret", "drone-server-secrets").stringData.DRONE_DATABASE_DATASOURCE).toBe(
        "postgres://drone:pg-password@db:5432/drone",
      );
      expect(find(objects, "ConfigMap", "drone-server-env").data).toMatchObject({
        DRONE_DATABASE_DRIVER: "postgres",
        DRONE_SERVER_HOST: "ci.example.com:8443",
        DRONE_GITHUB_SERVER: "https://github.com",
      });
      expect(find(objects, "ConfigMap", "drone-server-env").data.DRONE_DATABASE_DATASOURCE).toBeUndefined();
      expect(find(objects, "PersistentVolumeClaim")).toBeUndefined();
      expect(find(objects, "Deployment", "drone-runner").spec.template.spec.containers.map((c: any) => c.name)).toEqual(
        ["runner", "dind"],
      );
      expect(find(objects, "NetworkPolicy").spec.ingress[0].from).toContainEqual({
        ipBlock: { cidr: "192.168.0.0/16" },
      });
      expect(JSON.stringify(objects.filter((o) => o.kind !== "Secret"))).not.toMatch(SECRET_VALUES);
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });
});
