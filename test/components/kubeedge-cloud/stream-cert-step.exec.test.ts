import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { kubeEdgeHostSteps } from "../../../components/kubeedge-cloud/host-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/**
 * Runs cp-1's stream-certificate bundle with real openssl against a scratch K3s CA (bind-mounted over
 * /var/lib/rancher/k3s/server/tls) and a `k3s` stub that records what `kubectl apply` receives.
 */
const canRun =
  process.getuid?.() === 0 &&
  spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0 &&
  spawnSync("openssl", ["version"]).status === 0;
const maybe = canRun ? describe : describe.skip;

maybe("kubeedge-stream-cert bundle, executed (real openssl, k3s stub)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-kesc-"));
  const tls = join(dir, "tls");
  const state = join(dir, "state");
  beforeAll(() => {
    for (const d of [tls, state, join(dir, "bin")]) mkdirSync(d, { recursive: true });
    for (const ca of ["server-ca", "client-ca"]) {
      spawnSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(tls, `${ca}.key`)]);
      spawnSync("openssl", [
        "req",
        "-x509",
        "-new",
        "-key",
        join(tls, `${ca}.key`),
        "-subj",
        `/CN=k3s-${ca}`,
        "-days",
        "30",
        "-out",
        join(tls, `${ca}.crt`),
      ]);
    }
    // k3s kubectl: `get namespace` ok; `get secret` prints the stored annotation; create/annotate pass YAML on; apply stores it
    writeFileSync(
      join(dir, "bin", "k3s"),
      `#!/bin/bash
shift # kubectl
args="$*"
case "$args" in
  *"get namespace"*) exit 0 ;;
  *"get secret"*) [ -f "$STUB_STATE/annotation" ] && cat "$STUB_STATE/annotation"; exit 0 ;;
  *"create secret generic"*)
    for a in "$@"; do case "$a" in --from-file=*) kv=\${a#--from-file=}; echo "\${kv%%=*}: $(base64 -w0 < "\${kv#*=}")" ;; esac; done ;;
  *"annotate --local"*) cat; for a in "$@"; do case "$a" in edgecloud.io/stream-cert=*) echo -n "\${a#*=}" >"$STUB_STATE/annotation.new" ;; esac; done ;;
  *"apply -f -"*) cat >"$STUB_STATE/applied"; mv "$STUB_STATE/annotation.new" "$STUB_STATE/annotation"; echo apply >>"$STUB_STATE/log" ;;
  *"get deployment"*) exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = () => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: baseSpec }, issues)!;
    const step = kubeEdgeHostSteps(p, "tok").find((s) => s.id === "cp-1/kubeedge-stream-cert")!;
    writeFileSync(join(dir, "bundle.sh"), renderStepBundle(step));
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        `mkdir -p /var/lib/rancher/k3s/server/tls && mount --bind ${tls} /var/lib/rancher/k3s/server/tls && mkdir -p /usr/local/bin && mount --bind ${dir}/bin /usr/local/bin && bash ${dir}/bundle.sh`,
      ],
      { encoding: "utf8", env: { ...process.env, STUB_STATE: state } },
    );
    return { status: r.status, out: r.stdout + r.stderr };
  };

  test("GIVEN a K3s server WHEN the step runs THEN stream.crt is signed by K3s's server CA and names every edge node's IP, streamCA.crt is K3s's client CA; a second run changes nothing", () => {
    const first = run();
    expect(first.out).toContain("edgecloud-step: changed=1");
    expect(first.status).toBe(0);
    const applied = readFileSync(join(state, "applied"), "utf8");
    const field = (k: string) =>
      Buffer.from(new RegExp(`^${k.replace(".", "\\.")}: (.*)$`, "m").exec(applied)![1]!, "base64").toString();
    writeFileSync(join(dir, "stream.crt"), field("stream.crt"));
    const verify = spawnSync("openssl", ["verify", "-CAfile", join(tls, "server-ca.crt"), join(dir, "stream.crt")], {
      encoding: "utf8",
    });
    expect(verify.stdout).toContain(": OK");
    const text = spawnSync("openssl", ["x509", "-in", join(dir, "stream.crt"), "-noout", "-text"], {
      encoding: "utf8",
    }).stdout;
    for (const ip of ["10.0.1.31", "10.0.1.32", "10.0.1.33", "10.0.0.11"]) expect(text).toContain(`IP Address:${ip}`);
    expect(field("streamCA.crt")).toBe(readFileSync(join(tls, "client-ca.crt"), "utf8"));
    const second = run();
    expect(second.status).toBe(0);
    expect(second.out).toContain("edgecloud-step: changed=0");
    expect(readFileSync(join(state, "log"), "utf8").trim().split("\n")).toEqual(["apply"]);
  });
});
