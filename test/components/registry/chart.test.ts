import { compareSync } from "bcryptjs";
import { RegistryChart, RegistryProps } from "../../../components/registry";
import { assertValidObjects, chartObjects, KubeObject, newApp, objectsToYaml } from "../../../lib/manifests";
import { AUTH, registryProps } from "./props";

function render(props: RegistryProps): KubeObject[] {
  const objects = chartObjects(new RegistryChart(newApp(), "registry", props));
  assertValidObjects(objects);
  return objects;
}

const find = (objects: KubeObject[], kind: string, name?: string): any =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

describe("RegistryChart", () => {
  describe("GIVEN distribution v3 with a NodePort, htpasswd auth and TLS", () => {
    const objects = render(
      registryProps({
        mode: {
          kind: "in-cluster",
          nodePort: 32500,
          storage: { storageClassName: "nfs" },
          allowFrom: ["10.42.0.0/16"],
        },
        auth: AUTH,
      }),
    );

    test("THEN the container, its probes and the Service all use port 5000", () => {
      const pod = find(objects, "Deployment").spec.template.spec;
      expect(pod.containers[0].ports).toEqual([{ name: "registry", containerPort: 5000, protocol: "TCP" }]);
      expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: "/", port: "registry", scheme: "HTTPS" });
      expect(find(objects, "Service").spec).toMatchObject({
        type: "NodePort",
        ports: [{ port: 5000, targetPort: "registry", nodePort: 32500 }],
      });
    });

    test("THEN the v3 config path /etc/distribution is mounted and served", () => {
      const c = find(objects, "Deployment").spec.template.spec.containers[0];
      expect(c.args).toEqual(["serve", "/etc/distribution/config.yml"]);
      expect(c.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/distribution", readOnly: true });
      const config = find(objects, "ConfigMap").data["config.yml"];
      expect(config).toContain("addr: :5000");
      expect(config).toContain("path: /auth/htpasswd");
      expect(config).toContain("certificate: /etc/ssl/docker/tls.crt");
    });

    test("THEN the pod is hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp", () => {
      const pod = find(objects, "Deployment").spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(pod.containers[0].securityContext).toEqual({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(find(objects, "Namespace").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    test("THEN secrets live in Secrets only: htpasswd is bcrypt and verifies, the HTTP secret is an env Secret", () => {
      const htpasswd: string = find(objects, "Secret", "registry-auth").stringData.htpasswd;
      const [ci, node] = htpasswd.trim().split("\n");
      expect(ci).toMatch(/^ci:\$2b\$10\$/);
      expect(compareSync("ci-password", ci.slice(3))).toBe(true);
      expect(compareSync("node-password", node.slice(5))).toBe(true);
      expect(find(objects, "Secret", "registry-env").stringData).toEqual({
        REGISTRY_HTTP_SECRET: "0123456789abcdef0123456789abcdef",
      });
      expect(find(objects, "Secret", "registry-tls").type).toBe("kubernetes.io/tls");
      expect(JSON.stringify(objects.filter((o) => o.kind !== "Secret"))).not.toMatch(
        /ci-password|0123456789abcdef0123|PRIVATE KEY/,
      );
    });

    test("THEN the data PVC uses the chosen class and the Deployment recreates (RWO)", () => {
      expect(find(objects, "PersistentVolumeClaim").spec).toEqual({
        accessModes: ["ReadWriteOnce"],
        storageClassName: "nfs",
        resources: { requests: { storage: "20Gi" } },
      });
      expect(find(objects, "Deployment").spec.strategy).toEqual({ type: "Recreate" });
    });

    test("THEN garbage collection runs in the registry pod's init container, before the registry serves, on the same volume; the Deployment recreates; there is no CronJob next to a live registry", () => {
      const d = find(objects, "Deployment");
      const pod = d.spec.template.spec;
      expect(pod.initContainers.map((c: any) => [c.name, c.command, c.args])).toEqual([
        [
          "garbage-collect",
          ["/bin/sh", "-c"],
          [
            'if [ -d /var/lib/registry/docker/registry/v2/repositories ]; then exec registry garbage-collect --delete-untagged /etc/distribution/config.yml; fi; echo "registry: no repositories yet, nothing to collect"',
          ],
        ],
      ]);
      expect(pod.initContainers[0].volumeMounts).toEqual(pod.containers[0].volumeMounts);
      expect(pod.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: "registry-data" } });
      expect(d.spec.strategy).toEqual({ type: "Recreate" });
      expect(find(objects, "CronJob")).toBeUndefined();
    });

    test("THEN its NetworkPolicy admits the registry port only, from the nodes' addresses and allowFrom, and lets it out to DNS only", () => {
      const np = find(objects, "NetworkPolicy", "registry");
      expect(np.metadata.namespace).toBe("registry");
      expect(np.spec).toEqual({
        podSelector: {
          matchLabels: {
            "app.kubernetes.io/name": "registry",
            "app.kubernetes.io/instance": "registry",
            "app.kubernetes.io/component": "server",
          },
        },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              { ipBlock: { cidr: "10.0.0.11/32" } },
              { ipBlock: { cidr: "10.0.0.12/32" } },
              { ipBlock: { cidr: "10.0.0.21/32" } },
              { ipBlock: { cidr: "10.42.0.0/16" } },
            ],
            ports: [{ protocol: "TCP", port: 5000 }],
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
        ],
      });
    });

    test("THEN rendering twice gives the same manifests (stable htpasswd, no churn)", () => {
      const again = render(
        registryProps({
          mode: {
            kind: "in-cluster",
            nodePort: 32500,
            storage: { storageClassName: "nfs" },
            allowFrom: ["10.42.0.0/16"],
          },
          auth: AUTH,
        }),
      );
      expect(again).toEqual(objects);
    });

    test("THEN the manifest matches the snapshot", () => {
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN distribution v2, plain HTTP and an Ingress", () => {
    const objects = render(
      registryProps({
        mode: {
          kind: "in-cluster",
          ingress: { host: "registry.example.com", className: "nginx", maxBodySize: "2g" },
          endpoint: "registry.example.com",
        },
        version: "2.8.3",
        tls: { kind: "none" },
      }),
    );

    test("THEN the v2 config path is used and there is no TLS Secret", () => {
      expect(find(objects, "Deployment").spec.template.spec.containers[0].args).toEqual([
        "serve",
        "/etc/docker/registry/config.yml",
      ]);
      expect(find(objects, "Deployment").spec.template.spec.containers[0].image).toBe(
        "docker.io/library/registry:2.8.3",
      );
      expect(find(objects, "Secret", "registry-tls")).toBeUndefined();
      expect(find(objects, "Secret", "registry-auth")).toBeUndefined();
      expect(find(objects, "ConfigMap").data["config.yml"]).not.toContain("tls:");
    });

    test("THEN the NetworkPolicy lets the ingress controller's namespace in", () => {
      expect(find(objects, "NetworkPolicy").spec.ingress[0].from).toContainEqual({
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      });
    });

    test("THEN the Ingress lifts the body-size limit and the Service stays ClusterIP", () => {
      const ing = find(objects, "Ingress");
      expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("2g");
      expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/backend-protocol"]).toBeUndefined();
      expect(ing.spec.ingressClassName).toBe("nginx");
      expect(find(objects, "Service").spec.type).toBe("ClusterIP");
    });

    test("THEN the manifest matches the snapshot", () => {
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN a pull-through cache of Docker Hub on a ReadWriteMany volume without GC", () => {
    const objects = render(
      registryProps({
        mode: {
          kind: "in-cluster",
          nodePort: 32500,
          replicas: 2,
          storage: { accessMode: "ReadWriteMany", size: "50Gi" },
        },
        proxy: { remoteUrl: "https://registry-1.docker.io", username: "hub", password: "hub-token" },
        gc: { enabled: false },
      }),
    );

    test("THEN the proxy is configured with its password from the env Secret and deletes are off", () => {
      const config = find(objects, "ConfigMap").data["config.yml"];
      expect(config).toContain("remoteurl: https://registry-1.docker.io");
      expect(config).toContain("username: hub");
      expect(config).not.toContain("hub-token");
      expect(config).toMatch(/delete:\n\s+enabled: false/);
      expect(find(objects, "Secret", "registry-env").stringData.REGISTRY_PROXY_PASSWORD).toBe("hub-token");
    });

    test("THEN there is no GC init container and replicas roll, and the cache may reach its upstream on 443 only", () => {
      expect(find(objects, "Deployment").spec.template.spec.initContainers).toBeUndefined();
      expect(find(objects, "NetworkPolicy").spec.egress[1]).toEqual({ ports: [{ protocol: "TCP", port: 443 }] });
      expect(find(objects, "Deployment").spec).toMatchObject({ replicas: 2, strategy: { type: "RollingUpdate" } });
    });

    test("THEN the manifest matches the snapshot", () => {
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN an HA registry: 2 replicas on ReadWriteMany with GC", () => {
    const objects = render(
      registryProps({
        mode: { kind: "in-cluster", nodePort: 32500, replicas: 2, storage: { accessMode: "ReadWriteMany" } },
        auth: AUTH,
        gc: { schedule: "30 2 * * 0" },
      }),
    );
    const deployment = find(objects, "Deployment");

    test("THEN the replicas roll one at a time, one per node, sharing the HTTP secret, and a PDB keeps one up", () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
      expect(deployment.spec.template.spec.affinity).toEqual({
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "registry",
                  "app.kubernetes.io/instance": "registry",
                  "app.kubernetes.io/component": "server",
                },
              },
              topologyKey: "kubernetes.io/hostname",
            },
          ],
        },
      });
      // every replica reads the same http.secret (signed upload state survives a request landing on another one)
      expect(deployment.spec.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: "registry-env" } }]);
      expect(Object.keys(find(objects, "Secret", "registry-env").stringData)).toContain("REGISTRY_HTTP_SECRET");
      expect(find(objects, "PodDisruptionBudget").spec).toEqual({
        maxUnavailable: 1,
        selector: { matchLabels: deployment.spec.selector.matchLabels },
      });
    });

    test("THEN no replica collects at start; the CronJob turns every replica read-only, waits, collects, then makes them writable", () => {
      expect(deployment.spec.template.spec.initContainers).toBeUndefined();
      const cron = find(objects, "CronJob", "registry-gc");
      expect(cron.spec).toMatchObject({ schedule: "30 2 * * 0", concurrencyPolicy: "Forbid" });
      const pod = cron.spec.jobTemplate.spec.template.spec;
      const steps = [...pod.initContainers, ...pod.containers].map((c: any) => [c.name, c.args.join(" ")]);
      expect(steps).toEqual([
        [
          "read-only",
          '--namespace registry set env deployment/registry REGISTRY_STORAGE_MAINTENANCE_READONLY={"enabled":true}',
        ],
        ["wait-read-only", "--namespace registry rollout status deployment/registry --timeout=15m"],
        [
          "garbage-collect",
          expect.stringContaining("exec registry garbage-collect --delete-untagged /etc/distribution/config.yml"),
        ],
        ["writable", "--namespace registry set env deployment/registry REGISTRY_STORAGE_MAINTENANCE_READONLY-"],
      ]);
      expect(pod.restartPolicy).toBe("Never");
      expect(cron.spec.jobTemplate.spec.backoffLimit).toBe(0);
      const role = find(objects, "Role", "registry-gc");
      expect(role.rules[0]).toEqual({
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["registry"],
        verbs: ["get", "patch", "watch", "list"],
      });
    });
  });

  test("GIVEN host mode props WHEN a chart is made THEN it refuses", () => {
    expect(() => new RegistryChart(newApp(), "r", registryProps({ mode: { kind: "host", host: "store-1" } }))).toThrow(
      'RegistryChart renders in-cluster mode only; mode is "host"',
    );
  });
});
