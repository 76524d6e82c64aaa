import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { formatIssue, ValidationError } from "../../lib/validation";
import { environmentFile, loadEnvironment, readEnvironmentFile, validateEnvironment } from "../../stacks/environment";
import { resolveSecretRefs } from "../../stacks/secret-refs";
import { stackEnvironment } from "../../stacks/stack-config";

type Json = Record<string, any>;

function base(): Json {
  return resolveSecretRefs(readEnvironmentFile(environmentFile("default")), (n) => `placeholder-${n}`) as Json;
}

function problems(env: Json): string[] {
  try {
    validateEnvironment(env);
    return [];
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return e.issues.map(formatIssue);
  }
}

describe("cross-field checks", () => {
  test("GIVEN the bundled environments THEN no port clashes", () => {
    expect(problems(base())).toEqual([]);
  });

  test("GIVEN etcd's client port on 6443 and a host with etcd and server THEN the clash names both", () => {
    const env = base();
    // one etcd member, on server-1
    env.hosts[3].roles = ["etcd", "server"];
    env.hosts.splice(0, 3);
    env.k3s.etcd = { clientPort: 6443 };
    expect(problems(env)).toContain(
      "k3s.etcd.clientPort 6443 clashes with K3s server port 6443 (6443/tcp) on server-1; co-located roles need distinct ports",
    );
  });

  test("GIVEN the host-mode registry on an etcd member's peer port THEN refused", () => {
    const env = base();
    env.hosts[0].roles = ["etcd", "registry"];
    env.registry = { mode: { kind: "host", host: "etcd-1", port: 2380 } };
    expect(problems(env)).toContain(
      "k3s.etcd.peerPort 2380 clashes with registry.mode.port (2380/tcp) on etcd-1; co-located roles need distinct ports",
    );
  });

  test("GIVEN the registry NodePort equal to a cloudcore NodePort THEN refused", () => {
    const env = base();
    env.kubeedge.exposure = { kind: "NodePort" };
    env.registry.mode.nodePort = 30000;
    expect(problems(env)).toContain(
      "registry.mode.nodePort 30000 clashes with kubeedge.exposure.nodePorts.cloudhub (30000/tcp) on server-1, server-2, server-3, agent-1, agent-2; co-located roles need distinct ports",
    );
  });
});

describe("inline secrets in a file", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "ec-inline-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(environmentFile("default"), "utf8");

  test("GIVEN a password written inline WHEN the file is loaded THEN it is refused naming the field", () => {
    const f = join(dir, "inline.yaml");
    writeFileSync(f, text.replace("password: { secret: registry-admin-password }", "password: hunter2"));
    expect(() => loadEnvironment(f, { secrets: (n) => `s-${n}` })).toThrow(
      "registry.auth.users[0].password: is a plaintext secret inline in the file; write { secret: <name> }",
    );
  });

  test("GIVEN a password written inline WHEN the Pulumi program reads the file THEN it is refused the same way", () => {
    const f = join(dir, "inline-stack.yaml");
    writeFileSync(f, text.replace("password: { secret: registry-admin-password }", "password: hunter2"));
    const config = { requireSecret: (n: string) => `s-${n}` } as unknown as Parameters<typeof stackEnvironment>[1];
    expect(() => stackEnvironment({ environment: f }, config)).toThrow(
      "registry.auth.users[0].password: is a plaintext secret inline in the file; write { secret: <name> }",
    );
  });

  test("GIVEN allowInlineSecrets: true WHEN the file is loaded THEN the inline password is accepted", () => {
    const f = join(dir, "allowed.yaml");
    writeFileSync(
      f,
      `allowInlineSecrets: true\n${text.replace("password: { secret: registry-admin-password }", "password: hunter2")}`,
    );
    expect(loadEnvironment(f, { secrets: (n) => `s-${n}` }).name).toBe("default");
  });
});
