import { spawn } from "child_process";
import { createHash } from "crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "fs";
import { connect as netConnect, AddressInfo } from "net";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { Server, utils } from "ssh2";
import {
  HostStepConnection,
  hostStepRunProvider,
  HostStepRunInputs,
  rootCommand,
} from "../../../lib/pulumi/host-step-run";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { hostStep } from "../../../lib/steps/host-step";

/**
 * HostStepRun's provider over real SSH (the ssh2 protocol end to end) against a small in-process SSH server that
 * runs the command it is asked for with the local `sh -c`, and a stub `sudo` first on PATH that behaves like
 * sudo's -n / -S: with {@link sudoStub}.asks it reads one password line from its stdin and refuses a wrong one,
 * otherwise (NOPASSWD, a cached ticket) it reads nothing. The lab and the real engine run it against real sshd:
 * test/engine/k3s-ha-cluster.engine.test.ts.
 */
const sudoStub = { asks: false, password: "" };
const stubDir = mkdtempSync(join(tmpdir(), "ec-sudo-stub-"));
writeFileSync(
  join(stubDir, "sudo"),
  `#!/usr/bin/env bash
mode=n
while [ $# -gt 0 ]; do case "$1" in -n) shift ;; -S) mode=S; shift ;; -p) shift 2 ;; --) shift; break ;; *) break ;; esac; done
if [ "$mode" = S ] && [ "$STUB_SUDO_ASKS" = 1 ]; then
  IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
  [ "$pw" = "$STUB_SUDO_PASSWORD" ] || { echo "sudo: 1 incorrect password attempt" >&2; exit 1; }
fi
exec "$@"
`,
  { mode: 0o755 },
);
afterAll(() => rmSync(stubDir, { recursive: true, force: true }));
interface Exec {
  readonly user: string;
  readonly command: string;
  readonly stdin: string;
}

interface FakeHost {
  readonly port: number;
  /** The host key as an OpenSSH public key line. */
  readonly hostKey: string;
  readonly execs: Exec[];
  /** Users that authenticated. */
  readonly logins: string[];
  /** Commands running now, and the most that ran at once. */
  readonly sessions: { active: number; max: number };
  close(): Promise<void>;
}

const REPO = resolve(__dirname, "../../..");
/**
 * An ed25519 key pair ssh2 can parse back: ssh2 1.17.0's generateKeyPairSync strips leading zero bytes from the
 * public key (lib/keygen.js parseDERs), so about 1 pair in 256 is refused by its own parseKey as "Malformed OpenSSH
 * private/public key" (mscdex/ssh2 issues #1390, #1513, open); such a pair is drawn again.
 */
function ed25519(): { private: string; public: string } {
  for (let i = 0; i < 16; i++) {
    const k = utils.generateKeyPairSync("ed25519");
    if (!(utils.parseKey(k.private) instanceof Error) && !(utils.parseKey(k.public) instanceof Error)) return k;
  }
  throw new Error("ssh2 generated 16 unparseable ed25519 key pairs in a row");
}
const clientKey = ed25519();
const allowed = ((k) => {
  if (k instanceof Error) throw k;
  return k;
})(utils.parseKey(clientKey.public));

function fakeHost(opts: { port?: number } = {}): Promise<FakeHost> {
  const hostKey = ed25519();
  const execs: Exec[] = [];
  const logins: string[] = [];
  const sessions = { active: 0, max: 0 };
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    let user = "";
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey" || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH()))
        return ctx.reject(["publickey"]);
      if (ctx.signature && allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject(["publickey"]);
      if (ctx.signature) {
        user = ctx.username;
        logins.push(user);
      }
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("tcpip", (accept, reject, info) => {
        const sock = netConnect(info.destPort, info.destIP, () => {
          const ch = accept();
          ch.pipe(sock).pipe(ch);
        });
        sock.on("error", () => reject());
      });
      client.on("session", (accept) => {
        accept().on("exec", (acceptExec, _reject, info) => {
          const stream = acceptExec();
          const chunks: Buffer[] = [];
          stream.on("data", (d: Buffer) => chunks.push(d));
          stream.on("end", () => {
            const stdin = Buffer.concat(chunks).toString("utf8");
            execs.push({ user, command: info.command, stdin });
            sessions.max = Math.max(sessions.max, ++sessions.active);
            const bash = spawn("sh", ["-c", info.command], {
              cwd: tmpdir(),
              stdio: ["pipe", "pipe", "pipe"],
              env: {
                ...process.env,
                PATH: `${stubDir}:${process.env.PATH}`,
                STUB_SUDO_ASKS: sudoStub.asks ? "1" : "0",
                STUB_SUDO_PASSWORD: sudoStub.password,
              },
            });
            bash.stdout.on("data", (d: Buffer) => stream.write(d));
            bash.stderr.on("data", (d: Buffer) => stream.stderr.write(d));
            bash.on("close", (code) => {
              sessions.active--;
              stream.exit(code ?? 255);
              stream.end();
            });
            bash.stdin.on("error", () => undefined);
            bash.stdin.end(stdin);
          });
        });
      });
    });
  });
  return new Promise((res) => {
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      res({
        port: (server.address() as AddressInfo).port,
        hostKey: hostKey.public.split(" ").slice(0, 2).join(" "),
        execs,
        logins,
        sessions,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

const step = (script: string, name = "demo") =>
  hostStep({ host: "h1", name, component: "test", script, deleteScript: `ec_changed\necho "deleted ${name}"` });
const conn = (h: FakeHost, extra: Partial<HostStepConnection> = {}): HostStepConnection => ({
  host: "127.0.0.1",
  port: h.port,
  user: "root",
  privateKey: clientKey.private,
  hostKey: h.hostKey,
  ...extra,
});
const inputs = (h: FakeHost, script: string, extra: Partial<HostStepConnection> = {}): HostStepRunInputs => ({
  connection: conn(h, extra),
  bundle: renderStepBundle(step(script)),
  deleteBundle: `#!/usr/bin/env bash\necho "deleted"\n`,
  trigger: "t1",
});

describe("HostStepRun's provider over SSH", () => {
  let host: FakeHost;
  beforeAll(async () => {
    host = await fakeHost();
  });
  afterAll(async () => {
    await host.close();
  });

  test("GIVEN a step bundle WHEN create THEN it runs as `bash -s` with the bundle on stdin (not argv), and stdout, changed and hash are its outputs", async () => {
    const ins = inputs(host, 'ec_changed\necho "hello from the step"');
    const r = await hostStepRunProvider.create(ins);
    const exec = host.execs.at(-1)!;
    expect(exec).toEqual({ user: "root", command: "bash -s", stdin: ins.bundle });
    expect(r.outs.stdout).toContain("hello from the step\n");
    expect(r.outs.changed).toBe(1);
    expect(r.outs.hash).toBe(createHash("sha256").update(ins.bundle).digest("hex"));
    expect(r.outs).toMatchObject({
      bundle: ins.bundle,
      deleteBundle: ins.deleteBundle,
      trigger: "t1",
      connection: ins.connection,
    });
    expect(r.id).toMatch(/^[a-f0-9]{16}$/);
  });

  test("GIVEN a step that logs WHEN create THEN its own lines (ec_log) are the log output and other stderr is not", async () => {
    const r = await hostStepRunProvider.create(
      inputs(host, 'ec_log "turn of h1"\necho "a tool\'s noise" >&2\nec_log "h1 runs 3.5.17"\nec_changed'),
    );
    expect(r.outs.log).toBe("edgecloud: turn of h1\nedgecloud: h1 runs 3.5.17");
    const quiet = await hostStepRunProvider.update("x", r.outs, inputs(host, "ec_changed"));
    expect(quiet.outs.log).toBe("");
  });

  test("GIVEN a pinned host key that is not the host's WHEN create THEN it refuses at once, before authenticating, and names the key the host presented", async () => {
    const other = ed25519().public.split(" ").slice(0, 2).join(" ");
    const logins = host.logins.length;
    await expect(hostStepRunProvider.create(inputs(host, "echo never", { hostKey: other }))).rejects.toThrow(
      `root@127.0.0.1:${host.port}: the host key does not match the pinned hostKey (the host presented ${host.hostKey}); refusing to connect`,
    );
    // refused during the key exchange: no login was attempted (no wall-clock bound: see the no-timing rule)
    expect(host.logins.length).toBe(logins);
  });

  test("GIVEN a step that fails WHEN create THEN the error names the step, the exit code and the stderr tail, and not the bundle's secrets", async () => {
    const ins = inputs(
      host,
      'echo "tok=s3cr3t-value" >/dev/null\nfor i in $(seq 1 50); do echo "line $i" >&2; done\nexit 3',
    );
    const err = (await hostStepRunProvider.create(ins).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(
      /^edgecloud step h1\/demo failed on root@127\.0\.0\.1 \(exit 3\); stderr:\n… \(20 earlier lines\)\nline 21\n/,
    );
    expect(err.message).toContain("line 50");
    expect(err.message).not.toContain("s3cr3t");
  });

  test("GIVEN a non-root user WHEN create THEN `sudo -n bash -s`; with a sudo password the program reaches root's bash from a 0600 file and only the password reaches sudo", async () => {
    await hostStepRunProvider.create(inputs(host, "echo as-ops", { user: "ops" }));
    expect(host.execs.at(-1)!.command).toBe("sudo -n bash -s");
    sudoStub.asks = true;
    sudoStub.password = "pw-123";
    try {
      const ins = inputs(host, "echo as-ops", { user: "ops", sudoPassword: "pw-123" });
      const r = await hostStepRunProvider.create(ins);
      const exec = host.execs.at(-1)!;
      expect(exec.command).toBe(rootCommand({ user: "ops", sudoPassword: "pw-123" }));
      expect(exec.command).not.toContain("pw-123");
      expect(exec.stdin).toBe(`${Buffer.from("pw-123\n").toString("base64")}\n${ins.bundle}`);
      expect(r.outs.stdout).toContain("as-ops");
      expect(r.outs.stdout).not.toContain("pw-123");
    } finally {
      sudoStub.asks = false;
    }
  });

  describe("a hostile sudo password (a newline, $(…), backticks, a second command)", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ec-sudo-canary-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const hostile = () =>
      `pw\n$(touch ${dir}/canary-subst)\n\`touch ${dir}/canary-tick\`; touch ${dir}/canary-cmd\necho PASSWORD-ECHOED`;

    test("GIVEN sudo asks and the password is wrong for it WHEN create THEN nothing runs: no canary, no program, the password in no output", async () => {
      sudoStub.asks = true;
      sudoStub.password = "other";
      try {
        const ins = inputs(host, `touch ${dir}/program-ran`, { user: "ops", sudoPassword: hostile() });
        const err: Error = await hostStepRunProvider.create(ins).then(
          () => new Error("ran"),
          (e: Error) => e,
        );
        expect(err.message).toContain("sudo: 1 incorrect password attempt");
        expect(err.message).not.toContain("PASSWORD-ECHOED");
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        sudoStub.asks = false;
      }
    });

    test("GIVEN sudo asks and accepts the first line WHEN create THEN the program runs and the rest of the password runs nowhere", async () => {
      sudoStub.asks = true;
      sudoStub.password = "pw";
      try {
        const ins = inputs(host, `touch ${dir}/program-ran`, { user: "ops", sudoPassword: hostile() });
        const r = await hostStepRunProvider.create(ins);
        expect(readdirSync(dir)).toEqual(["program-ran"]);
        expect(r.outs.stdout).not.toContain("PASSWORD-ECHOED");
      } finally {
        sudoStub.asks = false;
      }
    });

    test("GIVEN sudo does not ask (NOPASSWD, a cached ticket) WHEN create THEN only the program runs; the password is neither executed nor echoed", async () => {
      const ins = inputs(host, `touch ${dir}/program-ran\necho program-output`, {
        user: "ops",
        sudoPassword: hostile(),
      });
      const r = await hostStepRunProvider.create(ins);
      expect(readdirSync(dir)).toEqual(["program-ran"]);
      expect(r.outs.stdout).toContain("program-output");
      expect(r.outs.stdout).not.toContain("PASSWORD-ECHOED");
    });

    test("GIVEN the program reads stdin WHEN sudo does not ask THEN it reads nothing (the password is not on root's stdin)", async () => {
      const ins = inputs(host, 'if read -r line; then echo "stdin had: $line"; else echo "stdin empty"; fi', {
        user: "ops",
        sudoPassword: hostile(),
      });
      const r = await hostStepRunProvider.create(ins);
      expect(r.outs.stdout).toContain("stdin empty");
    });
  });

  test("GIVEN the same inputs in another key order WHEN diff THEN no change; a new bundle, trigger or connection is an update, never a replace", async () => {
    const ins = inputs(host, "echo a");
    const { outs } = await hostStepRunProvider.create(ins);
    const reordered = {
      trigger: ins.trigger,
      deleteBundle: ins.deleteBundle,
      bundle: ins.bundle,
      connection: { ...Object.fromEntries(Object.entries(ins.connection).reverse()) } as HostStepConnection,
    };
    expect(await hostStepRunProvider.diff("id", outs, reordered)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    for (const news of [
      { ...ins, bundle: renderStepBundle(step("echo b")) },
      { ...ins, trigger: "t2" },
      { ...ins, connection: { ...ins.connection, port: 2222 } },
    ]) {
      expect(await hostStepRunProvider.diff("id", outs, news)).toEqual({
        changes: true,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });

  test("GIVEN a run WHEN update THEN the new bundle runs; WHEN delete THEN the delete bundle runs; an empty delete bundle opens no session", async () => {
    const ins = inputs(host, "echo first");
    const { outs } = await hostStepRunProvider.create(ins);
    const next = { ...ins, bundle: renderStepBundle(step("echo second")) };
    const updated = await hostStepRunProvider.update("id", outs, next);
    expect(updated.outs.stdout).toContain("second");
    expect(updated.outs.changed).toBe(0);
    await hostStepRunProvider.delete("id", updated.outs);
    expect(host.execs.at(-1)!.stdin).toBe(ins.deleteBundle);
    const n = host.execs.length;
    await hostStepRunProvider.delete("id", { ...updated.outs, deleteBundle: "" });
    expect(host.execs.length).toBe(n);
  });

  test("GIVEN a jump host WHEN create THEN the step reaches the host through a channel the jump host forwards", async () => {
    const jump = await fakeHost();
    try {
      const r = await hostStepRunProvider.create(
        inputs(host, "echo via-jump", {
          jumpHost: {
            host: "127.0.0.1",
            port: jump.port,
            user: "hop",
            privateKey: clientKey.private,
            hostKey: jump.hostKey,
          },
        }),
      );
      expect(r.outs.stdout).toContain("via-jump");
      expect(jump.logins).toEqual(["hop"]);
      expect(jump.execs).toEqual([]);
      expect(host.execs.at(-1)!.stdin).toContain("echo via-jump");
    } finally {
      await jump.close();
    }
  });

  test("GIVEN a host whose sshd is not up yet WHEN create THEN it retries until it is", async () => {
    const probe = await fakeHost();
    const port = probe.port;
    await probe.close();
    const later = new Promise<FakeHost>((res) => setTimeout(() => res(fakeHost({ port })), 1_500));
    const pending = hostStepRunProvider.create({
      ...inputs(host, "echo eventually"),
      connection: { host: "127.0.0.1", port, user: "root", privateKey: clientKey.private },
    });
    const late = await later;
    try {
      expect((await pending).outs.stdout).toContain("eventually");
    } finally {
      await late.close();
    }
  }, 20_000);
});

describe("HostStepRun's provider under provisioning limits", () => {
  let a: FakeHost;
  let b: FakeHost;
  beforeAll(async () => {
    [a, b] = await Promise.all([fakeHost(), fakeHost()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  const run = (h: FakeHost, limits: HostStepRunInputs["limits"], i: number) =>
    hostStepRunProvider.create({ ...inputs(h, `sleep 0.2\nec_changed\necho run-${i}`), limits });

  test("GIVEN maxConcurrentSteps 2 WHEN six steps are created at once THEN all run and the host never sees more than 2 sessions", async () => {
    const limits = { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 2 };
    const outs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => run(a, limits, i)));
    expect(outs.map((o) => o.outs.changed)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(a.sessions).toEqual({ active: 0, max: expect.any(Number) });
    expect(a.sessions.max).toBeLessThanOrEqual(2);
  });

  test("GIVEN maxStepsPerHost 1 WHEN three steps per host on two hosts are created at once THEN each host runs one at a time", async () => {
    a.sessions.max = 0;
    const limits = { maxConcurrentSteps: 8, maxConcurrentHosts: 8, maxStepsPerHost: 1 };
    await Promise.all([0, 1, 2].flatMap((i) => [run(a, limits, i), run(b, limits, i)]));
    expect([a.sessions.max, b.sessions.max]).toEqual([1, 1]);
  });
});

describe("HostStepRun's provider as Pulumi serializes it", () => {
  let host: FakeHost;
  let dir: string;
  beforeAll(async () => {
    host = await fakeHost();
    dir = mkdtempSync(join(tmpdir(), "host-step-run-"));
  });
  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("GIVEN the serialized provider WHEN a bare node process loads it the way the dynamic-provider shim does THEN it runs a step over SSH", async () => {
    const { serializeFunction } =
      require("@pulumi/pulumi/runtime/closure/serializeClosure") as typeof import("@pulumi/pulumi/runtime/closure/serializeClosure");
    const sf = await serializeFunction(() => hostStepRunProvider, { allowSecrets: true });
    expect(sf.text).not.toMatch(/require\(["']\.{1,2}\//);
    expect(sf.text).not.toMatch(/__importStar|_interop_require/);
    writeFileSync(join(dir, "provider.js"), sf.text);
    const good = inputs(host, "ec_changed\necho serialized-ok");
    const wrongKey = {
      ...good,
      connection: {
        ...good.connection,
        hostKey: ed25519().public.split(" ").slice(0, 2).join(" "),
      },
    };
    writeFileSync(join(dir, "inputs.json"), JSON.stringify([good, wrongKey]));
    // a run, and a refusal whose message must survive serialization (the engine shows the error's message)
    const driver = `
      const fs = require("fs");
      const provider = require("require-from-string")(fs.readFileSync(${JSON.stringify(join(dir, "provider.js"))}, "utf8")).${sf.exportName}();
      const [good, wrongKey] = JSON.parse(fs.readFileSync(${JSON.stringify(join(dir, "inputs.json"))}, "utf8"));
      (async () => {
        const r = await provider.create(good);
        const refused = await provider.create(wrongKey).then(() => "created", (e) => e.message);
        console.log(JSON.stringify({ stdout: r.outs.stdout, changed: r.outs.changed, refused }));
      })().catch((e) => { console.error(e.stack); process.exit(1); });`;
    // the fake host lives in this process: the child must not block it, so run it asynchronously
    const child = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const c = spawn(process.execPath, ["-e", driver], { cwd: REPO, env: { PATH: process.env.PATH } });
      let stdout = "";
      let stderr = "";
      c.stdout.on("data", (d: Buffer) => (stdout += d));
      c.stderr.on("data", (d: Buffer) => (stderr += d));
      c.on("close", (code) => res({ code, stdout, stderr }));
    });
    expect({ code: child.code, stderr: child.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(child.stdout)).toEqual({
      stdout: expect.stringContaining("serialized-ok"),
      changed: 1,
      refused: `root@127.0.0.1:${host.port}: the host key does not match the pinned hostKey (the host presented ${host.hostKey}); refusing to connect`,
    });
  }, 30_000);
});
