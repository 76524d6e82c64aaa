import {
  EnvironmentTopology,
  LINK_LABELS,
  TopologyEndpoint,
  TopologyHost,
  TopologyLinkKind,
  TopologyTier,
} from "./topology";

/** Layout knobs of {@link renderTopologySvg}. */
export interface TopologySvgProps {
  /** Hosts drawn per tier before the rest collapse into one "+N more" box. @default 8 */
  readonly maxHostsPerTier?: number;
}

const BOX_W = 184;
const EP_W = 240;
const EP_H = 70;
const GAP = 16;
const PAD = 12;
const TITLE_H = 22;
const ROW_GAP = 72;
const MARGIN = 24;
const GROUP_GAP = 32;

const COLORS: Readonly<Record<TopologyLinkKind, string>> = {
  "etcd-peer": "#b45309",
  datastore: "#7c3aed",
  fronts: "#64748b",
  join: "#2563eb",
  "edge-join": "#059669",
  storage: "#db2777",
  import: "#475569",
};
const TIER_TITLES: Readonly<Record<TopologyTier, string>> = {
  etcd: "etcd cluster",
  server: "K3s servers",
  agent: "K3s agents",
  edge: "edge nodes",
  service: "service hosts",
};
const TIER_FILL: Readonly<Record<TopologyTier, string>> = {
  etcd: "#fff7ed",
  server: "#eef2ff",
  agent: "#eff6ff",
  edge: "#ecfdf5",
  service: "#fdf2f8",
};

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Placed extends Rect {
  id: string;
  row: number;
}

/**
 * Draws an environment's topology as a standalone SVG: rows of role groups (etcd, servers, the shared endpoints,
 * then agents, edge nodes and service hosts), one box per host with its address, OS/arch and components, and
 * colored links between adjacent rows only, so no line crosses a box. Pure: same model, same bytes.
 */
export function renderTopologySvg(topo: EnvironmentTopology, props: TopologySvgProps = {}): string {
  const max = props.maxHostsPerTier ?? 8;
  // Host boxes are as tall as the longest component list needs (2 or 3 lines), the same for every host.
  const componentLines = Math.min(3, Math.max(2, ...topo.hosts.map((h) => wrap(h.components.join(", "), 3).length)));
  const BOX_H = 34 + 14 * (1 + componentLines) + 8;
  const tiers = (t: TopologyTier) => topo.hosts.filter((h) => h.tier === t);
  const rows: {
    groups: {
      tier?: TopologyTier;
      title: string;
      items: (TopologyHost | TopologyEndpoint | { more: number; id: string })[];
    }[];
  }[] = [];
  const group = (t: TopologyTier) => {
    const hs = tiers(t);
    if (hs.length === 0) return [];
    const shown: (TopologyHost | { more: number; id: string })[] = hs.slice(0, hs.length > max ? max - 1 : max);
    if (hs.length > max) shown.push({ more: hs.length - shown.length, id: `more:${t}` });
    return [{ tier: t, title: `${TIER_TITLES[t]} (${hs.length})`, items: shown }];
  };
  const addRow = (groups: (typeof rows)[number]["groups"]) => groups.length > 0 && rows.push({ groups });
  addRow(group("etcd"));
  addRow(group("server"));
  addRow(topo.endpoints.length > 0 ? [{ title: "endpoints", items: [...topo.endpoints] }] : []);
  addRow([...group("agent"), ...group("edge"), ...group("service")]);

  // Place groups and boxes.
  const placed = new Map<string, Placed>();
  const frames: { rect: Rect; title: string; tier?: TopologyTier }[] = [];
  const widthOf = (g: (typeof rows)[number]["groups"][number]) => {
    const ws = g.items.map((i) => ("label" in i ? EP_W : BOX_W));
    return ws.reduce((a, b) => a + b, 0) + GAP * (ws.length - 1) + 2 * PAD;
  };
  const rowWidths = rows.map((r) => r.groups.reduce((a, g) => a + widthOf(g), 0) + GROUP_GAP * (r.groups.length - 1));
  const legendKinds = [...new Set(topo.links.map((l) => l.kind))];
  const legendCols = 2;
  const legendW = 330 * legendCols;
  const width = Math.max(720, legendW + 2 * MARGIN, ...rowWidths.map((w) => w + 2 * MARGIN));
  let y = MARGIN + 34;
  rows.forEach((row, ri) => {
    let x = (width - rowWidths[ri]!) / 2;
    const isEndpoints = row.groups[0]!.tier === undefined;
    const inner = isEndpoints ? EP_H : BOX_H;
    const bottomPad = row.groups.some((g) => g.tier === "etcd") ? PAD + 14 : PAD;
    for (const g of row.groups) {
      const w = widthOf(g);
      if (!isEndpoints)
        frames.push({ rect: { x, y, w, h: TITLE_H + inner + PAD + bottomPad }, title: g.title, tier: g.tier });
      let bx = x + PAD;
      for (const item of g.items) {
        const bw = "label" in item ? EP_W : BOX_W;
        const id = "name" in item ? item.name : item.id;
        placed.set(id, {
          id,
          row: ri,
          x: bx,
          y: isEndpoints ? y + (TITLE_H + PAD) / 2 : y + TITLE_H + PAD,
          w: bw,
          h: inner,
        });
        bx += bw + GAP;
      }
      if (g.tier)
        placed.set(`tier:${g.tier}`, { id: `tier:${g.tier}`, row: ri, x, y, w, h: TITLE_H + inner + PAD + bottomPad });
      x += w + GROUP_GAP;
    }
    y += TITLE_H + inner + PAD + bottomPad + ROW_GAP;
  });
  const legendY = y - ROW_GAP + 28;
  const height = legendY + Math.ceil(legendKinds.length / legendCols) * 22 + MARGIN;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<defs>${Object.entries(COLORS)
      .map(
        ([k, c]) =>
          `<marker id="arrow-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`,
      )
      .join("")}</defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 12}" font-size="16" font-weight="bold" fill="#111827">${esc(`edgecloud environment "${topo.name}"`)}</text>`,
    `<text x="${width - MARGIN}" y="${MARGIN + 12}" font-size="12" text-anchor="end" fill="#4b5563">${esc(`${topo.hosts.length} hosts · ${topo.endpoints.length} endpoints`)}</text>`,
  );
  for (const f of frames) {
    out.push(
      `<rect x="${f.rect.x}" y="${f.rect.y}" width="${f.rect.w}" height="${f.rect.h}" rx="8" fill="${f.tier ? TIER_FILL[f.tier] : "#f9fafb"}" stroke="#9ca3af"/>`,
      `<text x="${f.rect.x + PAD}" y="${f.rect.y + 16}" font-size="12" font-weight="bold" fill="#374151">${esc(f.title)}</text>`,
    );
  }
  out.push(...renderLinks(topo, placed));
  for (const row of rows) {
    for (const g of row.groups) {
      for (const item of g.items) {
        const id = "name" in item ? item.name : item.id;
        const p = placed.get(id)!;
        if ("more" in item) out.push(box(p, [`+${item.more} more`, "same role", "", ""], "#f3f4f6", true));
        else if ("label" in item) out.push(box(p, [item.label, ...wrap(item.detail, 3, EP_W)], "#ffffff"));
        else {
          out.push(
            box(
              p,
              [item.name, item.address, item.platform, ...wrap(item.components.join(", "), componentLines)],
              "#ffffff",
            ),
          );
          if (item.badges?.length) out.push(badges(p, item.badges));
        }
      }
    }
  }
  legendKinds.forEach((k, i) => {
    const lx = MARGIN + (i % legendCols) * 330;
    const ly = legendY + Math.floor(i / legendCols) * 22;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 34}" y2="${ly}" stroke="${COLORS[k]}" stroke-width="2" marker-end="url(#arrow-${k})"/>`,
      `<text x="${lx + 44}" y="${ly + 4}" font-size="12" fill="#111827">${esc(LINK_LABELS[k])}</text>`,
    );
  });
  out.push("</svg>", "");
  return out.join("\n");
}

function renderLinks(topo: EnvironmentTopology, placed: Map<string, Placed>): string[] {
  const out: string[] = [];
  // Collapse links whose ends are hidden in a "+N more" box onto that box (once per kind).
  const resolve = (id: string) => placed.get(id) ?? placed.get(`more:${topo.hosts.find((h) => h.name === id)?.tier}`);
  const seen = new Set<string>();
  const links = topo.links
    .map((l) => ({ l, a: resolve(l.from), b: resolve(l.to) }))
    .filter(
      (x): x is { l: (typeof topo.links)[number]; a: Placed; b: Placed } => x.a !== undefined && x.b !== undefined,
    )
    .filter(({ l, a, b }) => {
      const k = `${a.id}>${b.id}>${l.kind}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });

  // Peers in one row: short connectors between neighbours, the ring closed by an arc under the boxes.
  for (const { l, a, b } of links.filter((x) => x.a.row === x.b.row)) {
    const c = COLORS[l.kind];
    const [left, right] = a.x < b.x ? [a, b] : [b, a];
    if (right.x - (left.x + left.w) <= GAP + 1) {
      const my = left.y + left.h / 2;
      out.push(`<line x1="${left.x + left.w}" y1="${my}" x2="${right.x}" y2="${my}" stroke="${c}" stroke-width="2"/>`);
    } else {
      const by = left.y + left.h;
      out.push(
        `<path d="M${left.x + left.w / 2},${by} v12 H${right.x + right.w / 2} v-12" fill="none" stroke="${c}" stroke-width="2"/>`,
      );
    }
  }
  // Between rows: spread the anchors of the links that share a box side so lines fan out instead of stacking.
  const between = links.filter((x) => x.a.row !== x.b.row);
  const sides = between.map(({ a, b }) => ({
    aSide: (a.row < b.row ? "bottom" : "top") as "top" | "bottom",
    bSide: (a.row < b.row ? "top" : "bottom") as "top" | "bottom",
  }));
  const count = new Map<string, number>();
  between.forEach(({ a, b }, i) => {
    for (const [p, s] of [
      [a, sides[i]!.aSide],
      [b, sides[i]!.bSide],
    ] as const)
      count.set(`${p.id}|${s}`, (count.get(`${p.id}|${s}`) ?? 0) + 1);
  });
  const used = new Map<string, number>();
  const xAt = (p: Placed, s: "top" | "bottom", other: Placed) => {
    const key = `${p.id}|${s}`;
    const n = count.get(key)!;
    const i = used.get(key) ?? 0;
    used.set(key, i + 1);
    if (n === 1)
      return Math.max(
        p.x + 12,
        Math.min(
          p.x + p.w - 12,
          other.x + other.w / 2 > p.x && other.x + other.w / 2 < p.x + p.w ? other.x + other.w / 2 : p.x + p.w / 2,
        ),
      );
    return p.x + (p.w * (i + 1)) / (n + 1);
  };
  // Sort so the fan keeps left-to-right order (no crossings within a fan).
  const order = between.map((x, i) => ({ ...x, ...sides[i]! })).sort((p, q) => p.a.x + p.b.x - (q.a.x + q.b.x));
  const byTarget = new Map<string, typeof order>();
  for (const o of order) byTarget.set(`${o.b.id}|${o.bSide}`, [...(byTarget.get(`${o.b.id}|${o.bSide}`) ?? []), o]);
  for (const o of [...byTarget.values()].flatMap((v) => v.sort((p, q) => p.a.x - q.a.x))) {
    const c = COLORS[o.l.kind];
    const x1 = xAt(o.a, o.aSide, o.b);
    const y1 = o.aSide === "bottom" ? o.a.y + o.a.h : o.a.y;
    const x2 = xAt(o.b, o.bSide, o.a);
    const y2 = o.bSide === "bottom" ? o.b.y + o.b.h : o.b.y;
    out.push(
      `<line x1="${r(x1)}" y1="${r(y1)}" x2="${r(x2)}" y2="${r(y2)}" stroke="${c}" stroke-width="1.6" marker-end="url(#arrow-${o.l.kind})"/>`,
    );
  }
  return out;
}

/** Capability badges in the top-right corner of a host box, right to left. */
function badges(p: Rect, list: readonly string[]): string {
  let x = p.x + p.w - 6;
  return list
    .slice()
    .reverse()
    .map((b) => {
      const w = Math.round(b.length * 6.2 + 10);
      x -= w + 3;
      return `<rect x="${x}" y="${p.y + 5}" width="${w}" height="15" rx="7" fill="#fde68a" stroke="#b45309"/><text x="${x + w / 2}" y="${p.y + 16}" font-size="9.5" font-weight="bold" text-anchor="middle" fill="#78350f">${esc(b)}</text>`;
    })
    .join("");
}

function box(p: Rect, lines: string[], fill: string, dashed = false): string {
  const [title, ...rest] = lines;
  const parts = [
    `<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" rx="6" fill="${fill}" stroke="#4b5563"${dashed ? ' stroke-dasharray="4 3"' : ""}/>`,
  ];
  parts.push(
    `<text x="${p.x + 10}" y="${p.y + 18}" font-size="13" font-weight="bold" fill="#111827">${esc(fit(title ?? "", p.w - 20, 7.6))}</text>`,
  );
  rest.forEach((l, i) => {
    if (l)
      parts.push(
        `<text x="${p.x + 10}" y="${p.y + 34 + i * 14}" font-size="11" fill="#374151">${esc(fit(l, p.w - 20, 6.4))}</text>`,
      );
  });
  return parts.join("");
}

/** Splits text into at most `n` lines of a box's width, the last one shortened with an ellipsis. */
function wrap(text: string, n: number, width = BOX_W): string[] {
  const per = Math.floor((width - 20) / 6.4);
  const words = text.split(" ");
  const lines: string[] = [];
  let cur = "";
  for (const w of words) {
    if ((cur ? `${cur} ${w}` : w).length > per && cur) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  if (lines.length > n) lines.splice(n - 1, lines.length, `${lines.slice(n - 1).join(" ")}`);
  return lines;
}

function fit(s: string, px: number, perChar: number): string {
  const n = Math.floor(px / perChar);
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function r(n: number): number {
  return Math.round(n * 10) / 10;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
