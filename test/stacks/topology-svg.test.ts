import { join } from "path";
import { environmentsDir, loadEnvironment } from "../../stacks/environment";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { environmentTopology } from "../../stacks/topology";
import { renderTopologySvg } from "../../stacks/topology-svg";

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The host/endpoint boxes of the picture (rx="6"), as numbers. */
function boxes(svg: string): Box[] {
  return [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="6"/g)].map((m) => ({
    x: +m[1]!,
    y: +m[2]!,
    w: +m[3]!,
    h: +m[4]!,
  }));
}
const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const env = (name: string) =>
  loadEnvironment(join(environmentsDir(), `${name}.yaml`), { secrets: synthSecretResolver("placeholder") });

describe("renderTopologySvg", () => {
  test("GIVEN ha-cloud's GPU and real-time agents THEN the topology carries their badges and the picture draws them", () => {
    const topo = environmentTopology(env("ha-cloud"));
    expect(topo.hosts.filter((h) => h.badges).map((h) => [h.name, h.badges])).toEqual([
      ["worker-1", ["RT"]],
      ["worker-3", ["GPU"]],
    ]);
    const svg = renderTopologySvg(topo);
    expect(svg.match(/fill="#78350f">(GPU|RT)<\/text>/g)).toEqual([
      'fill="#78350f">RT</text>',
      'fill="#78350f">GPU</text>',
    ]);
  });

  test.each(["default", "edge-cloud", "ha-cloud", "single-node", "multi-site-beijing"])(
    "GIVEN %s THEN every host has a box and no two boxes overlap",
    (name) => {
      const e = env(name);
      const svg = renderTopologySvg(environmentTopology(e));
      const b = boxes(svg);
      expect(b.length).toBe(e.hosts.length + environmentTopology(e).endpoints.length);
      for (let i = 0; i < b.length; i++)
        for (let j = i + 1; j < b.length; j++) expect(overlap(b[i]!, b[j]!)).toBe(false);
      for (const h of e.hosts) expect(svg).toContain(`>${h.name}</text>`);
    },
  );

  test("GIVEN the default environment THEN the picture says what is exposed where: cloudcore's ports to edge nodes, the stream port to servers only, EdgeX on 127.0.0.1 only", () => {
    const topo = environmentTopology(env("default"));
    const host = (n: string) => topo.hosts.find((h) => h.name === n)!;
    expect(host("server-1").components).toContain("cloudcore");
    expect(topo.endpoints.find((e) => e.id === "cloudcore")!.detail).toBe(
      "cloudHub 192.168.10.21:10000; edge nodes → :10000 :10002 :10004; servers → :10003",
    );
    expect(host("edge-1").components).toEqual(["edgecore v1.23.1", "edgex napa-3.1 (127.0.0.1 only)"]);
    const svg = renderTopologySvg(topo);
    expect(svg).toContain(">napa-3.1 (127.0.0.1 only)<");
    expect(svg).toContain("servers → :10003");
  });

  test("GIVEN the default environment THEN the links of every kind are drawn and listed in the legend; the picture is stable", () => {
    const topo = environmentTopology(env("default"));
    expect(new Set(topo.links.map((l) => l.kind))).toEqual(
      new Set(["etcd-peer", "datastore", "fronts", "join", "edge-join", "storage"]),
    );
    expect(topo.links).toContainEqual({ from: "edge-1", to: "cloudcore", kind: "edge-join" });
    expect(topo.links).toContainEqual({ from: "workloads", to: "nfs-1", kind: "storage" });
    const svg = renderTopologySvg(topo);
    expect(svg).toContain(">edge nodes → cloudcore (cloudHub)</text>");
    expect(svg).toMatchSnapshot();
  });

  test("GIVEN more hosts of a role than fit THEN the rest collapse into one '+N more' box", () => {
    const topo = environmentTopology(env("edge-cloud"));
    const svg = renderTopologySvg(topo, { maxHostsPerTier: 3 });
    expect(svg).toContain(">+2 more</text>");
    expect(svg).not.toContain(">edge-4</text>");
  });
});
