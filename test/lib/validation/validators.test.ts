import { spawnSync } from "child_process";
import { z } from "zod";
import {
  absolutePath,
  address,
  calendarExpression,
  cidr,
  cidrv4,
  hostPort,
  httpOrHttpsUrl,
  httpsUrl,
  imageReference,
  insecureFlag,
  IssueCollector,
  ipv4,
  ipv6,
  joinHostPort,
  knownVersion,
  labels,
  labelValue,
  ownedPath,
  parseInto,
  publicKeyLine,
  qualifiedName,
  requireHttpsUnlessInsecure,
  sshUser,
  taint,
} from "../../../lib/validation";

/** The messages a schema gives for `value` (empty when it is accepted). */
function messages(schema: z.ZodType, value: unknown): string[] {
  const issues = new IssueCollector();
  parseInto(schema, value, issues, "f");
  return issues.issues.map((i) => i.message);
}
const ok = (schema: z.ZodType, value: unknown) => expect(messages(schema, value)).toEqual([]);

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0sRBMZhqbD2b1EwUvgmn3d0xk/xlQ0UfBvEYEQSo+E";

describe("paths", () => {
  test.each(["/var/lib/etcd", "/srv/nfs/k8s", "/opt/edgecloud/data", "/var/lib/docker-registry", "/a/b.c_d-e+f@g"])(
    "GIVEN %s WHEN validated as an owned directory THEN it is accepted",
    (v) => ok(ownedPath, v),
  );
  test.each([
    ["/", "is the system directory /;"],
    ["/etc", "is the system directory /etc;"],
    ["/var", "is the system directory /var;"],
    ["/usr", "is the system directory /usr;"],
    ["/boot", "is the system directory /boot;"],
    ["/home", "is the system directory /home;"],
    ["/var/lib", "is the system directory /var/lib;"],
    ["/tmp", "is the system directory /tmp;"],
    ["/root", "is the system directory /root;"],
    ["/proc/1", "is below /proc"],
    ["/sys/fs/cgroup", "is below /sys"],
    ["/dev/shm/x", "is below /dev"],
  ])("GIVEN the system directory %s WHEN validated as an owned directory THEN it is refused by name", (v, msg) => {
    expect(messages(ownedPath, v)[0]).toContain(msg);
  });
  test.each([
    ["relative/x", "must be an absolute path (starting with /)"],
    ["/srv/../etc", 'must not contain ".." segments'],
    ["/srv/./x", 'must not contain "." segments'],
    ["/srv//x", 'must be normalized (no "//" and no trailing "/")'],
    ["/srv/x/", 'must be normalized (no "//" and no trailing "/")'],
    ["/srv/reg;cmd;x", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
    ["/srv/$(id)", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
    ["/srv/`id`", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
    ["/srv/a'b", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
    ["/srv/a\nb", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
    ["/srv/a b", "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes"],
  ])("GIVEN %j WHEN validated as a path THEN it is refused: %s", (v, msg) => {
    expect(messages(absolutePath, v)).toEqual([msg]);
  });
  test("GIVEN /etc/rancher/k3s/k3s.yaml WHEN validated as a path the library only reads THEN it is accepted", () =>
    ok(absolutePath, "/etc/rancher/k3s/k3s.yaml"));
});

describe("addresses", () => {
  test.each(["10.0.0.11", "255.255.255.255"])("GIVEN %s THEN ipv4 accepts it", (v) => ok(ipv4, v));
  test.each(["10.0.0.256", "10.0.0", "010.0.0.1", "1.2.3.4 ", "::1"])("GIVEN %j THEN ipv4 refuses it", (v) =>
    expect(messages(ipv4, v)).toEqual(["must be an IPv4 address such as 10.0.0.11 (four octets 0-255)"]),
  );
  test.each(["fd00::11", "::1", "2001:db8::1"])("GIVEN %s THEN ipv6 accepts it", (v) => ok(ipv6, v));
  test.each(["10.0.0.0/8", "fd00::/8"])("GIVEN %s THEN cidr accepts it", (v) => ok(cidr, v));
  test.each(["10.0.0.0/33", "300.0.0.0/8", "10.0.0.0"])("GIVEN %j THEN cidrv4 refuses it", (v) =>
    expect(messages(cidrv4, v)).toEqual(["must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)"]),
  );
  test.each(["10.0.0.11", "fd00::11", "server-1.example.com", "server-1"])("GIVEN %s THEN address accepts it", (v) =>
    ok(address, v),
  );
  test.each(["10.0.0.256", "-oProxyCommand=id", "a b", "host;id", "$(id)", "bad_name.example"])(
    "GIVEN %j THEN address refuses it",
    (v) =>
      expect(messages(address, v)).toEqual(["must be an IPv4 address (octets 0-255), an IPv6 address or a DNS name"]),
  );
  test.each(["10.0.0.11:32500", "[fd00::11]:5000", "registry.local", "registry.local:5000"])(
    "GIVEN %s THEN hostPort accepts it",
    (v) => ok(hostPort, v),
  );
  test.each(["fd00::11:5000", "10.0.0.11:0", "10.0.0.11:70000", "https://r:5000", "-K/etc/x", ".."])(
    "GIVEN %j THEN hostPort refuses it",
    (v) => expect(messages(hostPort, v)[0]).toMatch(/^must be host\[:port\] without a scheme/),
  );
  test("GIVEN an IPv6 host WHEN joined with a port THEN it is bracketed", () => {
    expect(joinHostPort("fd00::11", 6443)).toBe("[fd00::11]:6443");
    expect(joinHostPort("10.0.0.1", 6443)).toBe("10.0.0.1:6443");
  });
});

describe("URLs", () => {
  test("GIVEN https URLs THEN they are accepted", () => {
    ok(httpsUrl, "https://github.com/etcd-io/etcd/releases/download");
    ok(httpsUrl, "https://[fd00::1]:8443/x");
  });
  test.each([
    ["http://mirror.local/x", "uses plain http://, which anyone on the path can tamper with; use https://"],
    ["ftp://mirror.local/x", "has the scheme ftp:; allowed: https://"],
    ["-o/etc/passwd", "must be a URL such as https://example.com/path"],
    ["https://a b", "must be a URL (https://) of RFC 3986 characters (no spaces, quotes or backslashes)"],
    ["https://x/'$(id)'", "must be a URL (https://) of RFC 3986 characters (no spaces, quotes or backslashes)"],
    ["https://u:p@mirror.local/", "must not carry credentials (user:password@); give them as a secret field"],
    ["https:mirror.local", "must start with https://"],
  ])("GIVEN %j THEN httpsUrl refuses it: %s", (v, msg) => expect(messages(httpsUrl, v)).toEqual([msg]));
  test("GIVEN http:// WHEN the object says insecure: true THEN it is accepted, otherwise refused", () => {
    const s = z
      .strictObject({ mirror: httpOrHttpsUrl, insecure: insecureFlag })
      .superRefine(requireHttpsUnlessInsecure("mirror"));
    ok(s, { mirror: "http://mirror.local", insecure: true });
    const issues = new IssueCollector();
    parseInto(s, { mirror: "http://mirror.local" }, issues, "x");
    expect(issues.issues).toEqual([
      {
        path: "x.mirror",
        value: "http://mirror.local",
        message: "uses plain http://, which anyone on the path can tamper with; use https://, or set insecure: true",
      },
    ]);
    expect(messages(s, { mirror: "https://m", insecure: false })).toEqual([
      "must be true (it is the opt-in for plain http://); remove it otherwise",
    ]);
  });
});

describe("Kubernetes names", () => {
  test.each(["app", "app.kubernetes.io/name", "node-role.kubernetes.io/edge", "A_b.c"])(
    "GIVEN %s THEN qualifiedName accepts it",
    (v) => ok(qualifiedName, v),
  );
  test.each(["", "-a", "a/b/c", "Bad_Prefix/x", "a;b", "x".repeat(64)])("GIVEN %j THEN qualifiedName refuses it", (v) =>
    expect(messages(qualifiedName, v)).toHaveLength(1),
  );
  test.each(["", "edge", "v1.2_3"])("GIVEN %j THEN labelValue accepts it", (v) => ok(labelValue, v));
  test.each(["$(id)", "a b", "-x", "x\n"])("GIVEN %j THEN labelValue refuses it", (v) =>
    expect(messages(labelValue, v)).toEqual([
      "must be empty or at most 63 characters A-Z a-z 0-9 - _ . that start and end alphanumeric",
    ]),
  );
  test("GIVEN a label with a bad key THEN the key is named", () => {
    const issues = new IssueCollector();
    parseInto(labels, { "a;b": "x" }, issues, "hosts[0].labels");
    expect(issues.issues).toEqual([
      {
        path: "hosts[0].labels.a;b",
        value: "x",
        message:
          "is not a valid label key: must have a name part of at most 63 characters A-Z a-z 0-9 - _ . that starts and ends alphanumeric",
      },
    ]);
  });
  test.each(["dedicated=edge:NoSchedule", "node-role.kubernetes.io/edge:NoExecute", "k=:PreferNoSchedule"])(
    "GIVEN %s THEN taint accepts it",
    (v) => ok(taint, v),
  );
  test.each([
    ["k=v:Sometimes", "has the effect Sometimes; allowed: NoSchedule, PreferNoSchedule, NoExecute"],
    ["k=$(id):NoSchedule", "must be empty or at most 63 characters A-Z a-z 0-9 - _ . that start and end alphanumeric"],
    ["novalue", "must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute"],
  ])("GIVEN %j THEN taint refuses it: %s", (v, msg) => expect(messages(taint, v)).toEqual([msg]));
  test.each(["ghcr.io/kube-vip/kube-vip:v0.8.9", "busybox:1.36.1", "registry.local:5000/a/b@sha256:" + "a".repeat(64)])(
    "GIVEN %s THEN imageReference accepts it",
    (v) => ok(imageReference, v),
  );
  test.each(["-x", "a b", "ghcr.io/x:$(id)", "UPPER/x"])("GIVEN %j THEN imageReference refuses it", (v) =>
    expect(messages(imageReference, v)).toEqual([
      "must be an image reference such as ghcr.io/kube-vip/kube-vip:v0.8.9",
    ]),
  );
});

describe("systemd calendar expressions", () => {
  const accepted = [
    "hourly",
    "daily",
    "weekly",
    "minutely",
    "*-*-* 03:30:00",
    "*-*-* 00/6:00",
    "Mon..Fri *-*-* 02:00",
    "Sat,Sun 04:00",
    "*-*-01 00:00:00",
    "2026-12-24 18:00",
    "*:0/15",
    "*-*-* *:00:00",
    "03:30",
    "*-01,07-01 00:00",
  ];
  const refused = [
    "hourly\nUnit=reboot.target",
    "hourly;reboot",
    "$(id)",
    "every day",
    "*-*-* 25:00",
    "*-13-01 00:00",
    "Funday 00:00",
    "*-*-* 00:60",
    "",
    "-hourly",
    "*-*-* 00:00 UTC",
  ];
  test.each(accepted)("GIVEN %j THEN it is accepted", (v) => ok(calendarExpression, v));
  test.each(refused)("GIVEN %j THEN it is refused", (v) =>
    expect(messages(calendarExpression, v)[0]).toMatch(/^must be a systemd calendar expression/),
  );
  const analyze = spawnSync("systemd-analyze", ["--version"]).status === 0;
  (analyze ? test : test.skip)(
    "GIVEN every accepted expression WHEN given to systemd-analyze calendar THEN systemd accepts it too",
    () => {
      for (const v of accepted) {
        const r = spawnSync("systemd-analyze", ["calendar", v], { encoding: "utf8" });
        expect({ v, status: r.status }).toEqual({ v, status: 0 });
      }
    },
  );
});

describe("SSH", () => {
  test.each(["root", "ubuntu", "edge_admin", "deploy-1", "svc.ci"])("GIVEN %s THEN sshUser accepts it", (v) =>
    ok(sshUser, v),
  );
  test.each(["-oProxyCommand=id", "a b", "root;id", "", "$(id)", "1abc"])("GIVEN %j THEN sshUser refuses it", (v) =>
    expect(messages(sshUser, v)[0]).toMatch(/^must be a user name/),
  );
  test("GIVEN a .pub line with its comment THEN it is accepted, and without one too", () => {
    ok(publicKeyLine, `${ED25519} root@etcd-1`);
    ok(publicKeyLine, `${ED25519} root@etcd-1\n`);
    ok(publicKeyLine, ED25519);
  });
  test.each([
    [`${ED25519} x\nssh-rsa AAAA`, "(no newlines or control characters)"],
    ["ssh-dss AAAAB3NzaC1kc3MAAACBAP", "has the key type ssh-dss; allowed:"],
    [
      "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJ0sRBMZhqbD2b1EwUvgmn3d0xk/xlQ0UfBvEYEQSo+E",
      "has a base64 part that is not a ssh-rsa key",
    ],
    ["ssh-ed25519", "must be one OpenSSH public key line"],
  ])("GIVEN %j THEN publicKeyLine refuses it", (v, msg) => expect(messages(publicKeyLine, v)[0]).toContain(msg));
});

describe("versions", () => {
  const k3s = knownVersion(["v1.31.4+k3s1", "v1.30.8+k3s1"], "K3s", /^v1\.\d+\.\d+\+k3s\d+$/);
  test("GIVEN a known release THEN it is accepted as given", () => {
    expect(k3s.parse("v1.31.4+k3s1")).toBe("v1.31.4+k3s1");
  });
  test("GIVEN an unknown release THEN it is refused naming the escape hatch", () => {
    expect(messages(k3s, "v1.99.0+k3s9")).toEqual([
      'is not a K3s release edgecloud knows (v1.31.4+k3s1, v1.30.8+k3s1); for a newer release write { unlisted: "v1.99.0+k3s9" }',
    ]);
  });
  test("GIVEN the escape hatch THEN a well-formed newer release passes as a string and a malformed one is refused", () => {
    expect(k3s.parse({ unlisted: "v1.33.1+k3s1" })).toBe("v1.33.1+k3s1");
    expect(messages(k3s, { unlisted: "v1.33.1;id" })).toEqual([
      "must look like a K3s release (^v1\\.\\d+\\.\\d+\\+k3s\\d+$)",
    ]);
  });
});

describe("wrong-type messages", () => {
  test("GIVEN a string where a number is expected THEN the message names both types", () => {
    const issues = new IssueCollector();
    parseInto(z.strictObject({ port: z.number() }), { port: "22" }, issues, "hosts[0].ssh");
    expect(issues.issues).toEqual([{ path: "hosts[0].ssh.port", value: "22", message: "must be number, not string" }]);
  });
  test("GIVEN a list where a mapping is expected THEN the message names both", () => {
    const issues = new IssueCollector();
    parseInto(z.strictObject({ ssh: z.strictObject({}) }), { ssh: [] }, issues, "hosts[0]");
    expect(issues.issues[0].message).toBe("must be a mapping, not a list");
  });
  test("GIVEN a missing field THEN it is required", () => {
    const issues = new IssueCollector();
    parseInto(z.strictObject({ port: z.number() }), {}, issues, "x");
    expect(issues.issues[0].message).toBe("is required (number)");
  });
});
