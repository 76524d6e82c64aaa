import { readFileSync, readdirSync } from "fs";
import { join, relative } from "path";
import { COMPOSITION, PhaseBook } from "../../stacks/composition";
import { environmentsDir, loadEnvironment } from "../../stacks/environment";
import { environmentMaterial } from "../../stacks/material";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";

const files = readdirSync(environmentsDir())
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const load = (file: string) =>
  loadEnvironment(join(environmentsDir(), file), { secrets: synthSecretResolver("placeholder") });
const root = join(__dirname, "../..");

describe("the composition", () => {
  test("GIVEN the list THEN every component is in it once, the K3s cluster first", () => {
    const ids = COMPOSITION.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe("k3s-ha-cluster");
    const sections = COMPOSITION.flatMap((c) => (c.section ? [c.section] : []));
    expect(sections.sort()).toEqual(["drone", "edgex", "k3s", "kubeedge", "nfs", "rancher", "registry"]);
  });

  test.each(files)(
    "GIVEN %s THEN each present component marks exactly the phases it declares and its synth wires are exactly those it says it provides",
    async (file) => {
      const env = load(file);
      const material = await environmentMaterial(env, "placeholder");
      const present = COMPOSITION.filter((c) => c.present(env));
      expect(present.length).toBeGreaterThan(1);
      const wires: Record<string, unknown> = {};
      for (const c of present) {
        const own = c.wires?.(env, material) ?? {};
        expect(Object.keys(own).sort()).toEqual(
          [...(c.provides?.(env) ?? [])].filter((w) => w !== "kubeconfig").sort(),
        );
        Object.assign(wires, own);
      }
      const phases = new PhaseBook<string>(present, env);
      for (const c of present) {
        const r = c.render({
          env,
          material,
          opts: {},
          wire: (n) => wires[n] as never,
          after: (ps) => phases.resolve(ps, c.id),
        });
        expect(Object.keys(r.phases ?? {}).sort()).toEqual([...(c.marks?.(env) ?? [])].sort());
        // package-repos is empty where no host needs a package repository step
        for (const [p, ids] of Object.entries(r.phases ?? {}))
          if (p !== "package-repos") expect(ids.length).toBeGreaterThan(0);
        phases.mark(r.phases);
      }
    },
  );

  test("GIVEN a component that waits for a phase its marker has not reached THEN the walk stops naming both", () => {
    const env = load("default.yaml");
    const nfs = COMPOSITION.find((c) => c.id === "nfs-provisioner")!;
    const book = new PhaseBook<string>([nfs], env);
    expect(() => book.resolve(["storage"], "registry")).toThrow(
      'registry waits for the phase "storage", which nfs-provisioner marks later in COMPOSITION; move registry after it',
    );
    book.mark({ storage: ["nfs-1/nfs-server"] });
    expect(book.resolve(["storage"], "registry")).toEqual(["nfs-1/nfs-server"]);
  });

  test("GIVEN no NFS THEN storage is the servers' start, and edge-nodes is nothing without KubeEdge", () => {
    const env = load("single-node.yaml");
    const k3s = COMPOSITION[0]!;
    const book = new PhaseBook<string>([k3s], env);
    book.mark({ "servers-started": ["dev-1/k3s-start"] });
    expect(book.resolve(["edge-nodes", "storage"], "edgex-stack")).toEqual(["dev-1/k3s-start"]);
  });

  test("GIVEN every bundled environment's steps THEN no file outside a component's own folder names one of its steps", async () => {
    // step name → the component whose folder renders it (rancher's lives in stacks/)
    const owner = new Map<string, Set<string>>();
    const folderOf = (component: string) => (component === "rancher-import" ? "stacks" : `components/${component}`);
    for (const file of files) {
      const out = await synthesize(load(file), { material: "placeholder", validateManifests: false });
      for (const s of out.plan.steps) (owner.get(s.name) ?? owner.set(s.name, new Set()).get(s.name)!).add(s.component);
    }
    expect(owner.size).toBeGreaterThan(20);
    // a step named after its component ("registry", host mode) is the component's name everywhere else
    for (const c of COMPOSITION) owner.delete(c.id);
    const sources = ["stacks", ...readdirSync(join(root, "components")).map((d) => `components/${d}`)].flatMap((dir) =>
      tsFiles(join(root, dir)),
    );
    const found: string[] = [];
    for (const path of sources) {
      const rel = relative(root, path);
      const text = readFileSync(path, "utf8");
      for (const [name, components] of owner) {
        const mine = [...components].some((c) => rel.startsWith(`${folderOf(c)}/`));
        if (!mine && new RegExp(`["'\`]${name}["'\`]`).test(text)) found.push(`${rel}: "${name}"`);
      }
    }
    expect(found).toEqual([]);
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}
