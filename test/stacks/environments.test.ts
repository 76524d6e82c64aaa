import { createHash } from "crypto";
import { readdirSync } from "fs";
import { join } from "path";
import { objectsToYaml } from "../../lib/manifests/chart";
import { environmentsDir, loadEnvironment } from "../../stacks/environment";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";

const files = readdirSync(environmentsDir())
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("example environments", () => {
  test("GIVEN the bundled environments THEN there is the default, single-node, HA cloud and multi-site", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "default.yaml",
        "single-node.yaml",
        "ha-cloud.yaml",
        "multi-site-beijing.yaml",
        "multi-site-shanghai.yaml",
      ]),
    );
  });

  test.each(files)(
    "%s: synthesizes with strict schema validation; manifest set and step plan match the snapshot",
    async (file) => {
      // GIVEN placeholder secrets (deterministic)
      const env = loadEnvironment(join(environmentsDir(), file), { secrets: synthSecretResolver("placeholder") });
      expect(`${env.name}.yaml`).toBe(file);
      // WHEN
      const out = await synthesize(env, { material: "placeholder", validateManifests: true });
      // THEN every host has steps, the plan is complete, and the manifests are stable
      for (const h of env.hosts) expect(out.hosts[h.name]!.length).toBeGreaterThan(0);
      expect(Object.values(out.hosts).flat()).toHaveLength(out.plan.steps.length);
      // the bundled default environment's manifests whole; the others' as each object's identity and a digest of
      // its YAML (any change shows up; their charts' whole outputs are the components' own snapshots)
      expect(
        Object.fromEntries(
          Object.entries(out.manifests).map(([c, objs]) => [
            c,
            file === "default.yaml"
              ? objectsToYaml(objs)
              : objs.map(
                  (o) =>
                    `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name} ${createHash(
                      "sha256",
                    )
                      .update(objectsToYaml([o]))
                      .digest("hex")
                      .slice(0, 12)}`,
                ),
          ]),
        ),
      ).toMatchSnapshot("manifests");
      expect(
        Object.fromEntries(
          Object.entries(out.hosts).map(([h, steps]) => [
            h,
            steps.map((s) => `${s.name} <- ${s.dependsOn.join(", ")}`),
          ]),
        ),
      ).toMatchSnapshot("steps");
      // the files for the user no host step places (edge pools' join bundles): path, mode, secret, digest
      expect(
        out.artifacts.map(
          (a) =>
            `${a.path} ${a.mode.toString(8)}${a.secret ? " secret" : ""} ${createHash("sha256").update(a.content).digest("hex").slice(0, 12)}`,
        ),
      ).toMatchSnapshot("artifacts");
    },
  );

  test("GIVEN the default environment THEN it is the HA cluster of issue 2: 3 etcd, 3 servers, 2 agents on mixed OS/arch", () => {
    const env = loadEnvironment(join(environmentsDir(), "default.yaml"), {
      secrets: synthSecretResolver("placeholder"),
    });
    const by = (r: string) => env.hosts.filter((h) => h.roles.includes(r as never)).length;
    expect([by("etcd"), by("server"), by("agent")]).toEqual([3, 3, 2]);
    expect(new Set(env.hosts.map((h) => h.arch))).toEqual(new Set(["amd64", "arm64"]));
    expect(new Set(env.hosts.map((h) => h.os)).size).toBeGreaterThanOrEqual(5);
  });
});
