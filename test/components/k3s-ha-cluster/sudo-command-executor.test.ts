import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { HostSchema } from "../../../lib/hosts/host";
import { recorded, setupPulumiMocks, valueOf } from "../../support/pulumi-mocks";
import { haHosts, haSpec } from "../../fixtures/cluster";

setupPulumiMocks();
const { K3sHaCluster } =
  require("../../../components/k3s-ha-cluster/k3s-ha-cluster") as typeof import("../../../components/k3s-ha-cluster/k3s-ha-cluster");
const { deleteCommand } =
  require("../../../lib/pulumi/host-step-commands") as typeof import("../../../lib/pulumi/host-step-commands");
const { rootStdin } =
  require("../../../lib/pulumi/host-step-run") as typeof import("../../../lib/pulumi/host-step-run");

/**
 * The default `command` executor with a non-root SSH user whose sudo asks for a password. The remote command and its
 * stdin, exactly as the command provider would send them, run here under `sh -c` with a stub `sudo` first on PATH
 * that behaves like `sudo -S` (reads one password line from its stdin, refuses a wrong one) and `sudo -n` (refuses:
 * a password is required), then runs what it was given.
 */
const dir = mkdtempSync(join(tmpdir(), "ec-sudo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, "sudo"),
  `#!/usr/bin/env bash
mode=n
while [ $# -gt 0 ]; do case "$1" in -n) shift ;; -S) mode=S; shift ;; -p) shift 2 ;; --) shift; break ;; *) break ;; esac; done
[ "$mode" = S ] || { echo "sudo: a password is required" >&2; exit 1; }
IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
[ "$pw" = "$STUB_SUDO_PASSWORD" ] || { echo "sudo: 1 incorrect password attempt" >&2; exit 1; }
exec "$@"
`,
  { mode: 0o755 },
);
const remote = (commandLine: string, stdin: string, password = "s3cret pw") =>
  spawnSync("sh", ["-c", commandLine], {
    input: stdin,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, STUB_SUDO_PASSWORD: password },
  });

const ops = HostSchema.parse({
  name: "server-1",
  address: "192.168.10.21",
  ssh: { user: "ops", privateKey: "KEY", sudoPassword: "s3cret pw" },
  os: "ubuntu-22.04",
  arch: "amd64",
  roles: ["server"],
});

describe("command executor, non-root user with a sudo password", () => {
  test("GIVEN a step created with the password on its stdin WHEN it is destroyed THEN the delete runs its own bundle as root through sudo -S (not sudo -n), with the stdin stored from the create", () => {
    const create = rootStdin({ user: "ops", sudoPassword: "s3cret pw" }, "echo CREATE-RAN\n");
    const r = remote(deleteCommand(ops, "echo DELETE-RAN\n"), create);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("DELETE-RAN\n");
    expect(remote(deleteCommand(ops, "echo DELETE-RAN\n"), create, "other").stdout).toBe("");
  });

  test("GIVEN a root user or NOPASSWD sudo THEN the delete needs no stdin", () => {
    const root = HostSchema.parse({ ...ops, ssh: { privateKey: "KEY" } });
    expect(deleteCommand(root, "echo X\n")).toMatch(/\| bash -s$/);
    const nopasswd = HostSchema.parse({ ...ops, ssh: { user: "ops", privateKey: "KEY" } });
    expect(deleteCommand(nopasswd, "echo X\n")).toMatch(/\| sudo -n bash -s$/);
  });

  test("GIVEN a delete bundle too long for one argument (a long chain) THEN rendering the delete command refuses, naming the step and what to use", () => {
    const root = HostSchema.parse({ ...ops, ssh: { privateKey: "KEY" } });
    const big = `#!/usr/bin/env bash\n# edgecloud chain delete ${root.name}: a b\n${"echo x\n".repeat(17_000)}`;
    expect(() => deleteCommand(root, big)).toThrow(
      /edgecloud chain delete .*: its delete command is \d+ bytes, more than one argument may hold \(131072\); use executor "in-process"/,
    );
    expect(() => deleteCommand(root, "echo x\n".repeat(10_000))).not.toThrow();
  });

  test("GIVEN the cluster WHEN the kubeconfig is read THEN the read goes through sudo -S with the password on stdin (secret) and runs exactly `cat /etc/rancher/k3s/k3s.yaml` as root", async () => {
    const hosts = haHosts.map((h) => ({
      ...h,
      ssh: { user: "ops", privateKey: pulumi.secret("KEY"), sudoPassword: pulumi.secret("s3cret pw") },
    }));
    const cluster = new K3sHaCluster("sudo", { hosts, spec: haSpec });
    await valueOf(cluster.kubeconfig);
    const read = recorded.find((r) => r.name === "sudo-kubeconfig")!;
    // run it with `cat` replaced by `echo` so the test proves which file root reads, without needing it
    // a secret input reaches the engine as Pulumi's secret envelope, the value inside it
    const raw = read.inputs.stdin as { value?: string } | string;
    expect(typeof raw).toBe("object");
    const stdin = typeof raw === "string" ? raw : String(raw.value);
    expect(stdin.split("\n")[0]).toBe(Buffer.from("s3cret pw\n").toString("base64"));
    const r = remote(read.inputs.create, stdin.replace("cat ", "echo would-read "));
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("would-read /etc/rancher/k3s/k3s.yaml\n");
  });
});
