import { registryHostSteps } from "../../../components/registry";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { shellcheckStep } from "./fixtures";
import { AUTH, registryProps } from "./props";

describe("registryHostSteps", () => {
  describe("GIVEN host mode with auth, TLS and a daily GC", () => {
    const [step] = registryHostSteps(registryProps({ mode: { kind: "host", host: "store-1" }, auth: AUTH }));

    test("THEN there is one secret step on the registry host", () => {
      expect(step.id).toBe("store-1/registry");
      expect(step.secret).toBe(true);
    });

    test("THEN secrets are 0600 files (htpasswd, key, env), never in the script", () => {
      const secretPaths = step.files.filter((f) => f.secret).map((f) => [f.path, f.mode]);
      expect(secretPaths).toEqual([
        ["/etc/edgecloud/registry/registry.env", "0600"],
        ["/etc/edgecloud/registry/htpasswd", "0600"],
        ["/etc/edgecloud/registry/tls.key", "0600"],
      ]);
      expect(step.script).not.toMatch(/password|0123456789abcdef|PRIVATE/);
      expect(step.deleteScript).not.toMatch(/password|0123456789abcdef|PRIVATE/);
    });

    test("THEN the unprivileged service gets them through LoadCredential and the config points there", () => {
      const dropIn = step.files.find((f) => f.path.endsWith("override.conf"))!.content;
      expect(dropIn).toContain("LoadCredential=htpasswd:/etc/edgecloud/registry/htpasswd");
      expect(dropIn).toContain("LoadCredential=tls.key:/etc/edgecloud/registry/tls.key");
      expect(dropIn).toContain("ExecStart=/usr/bin/docker-registry serve /etc/edgecloud/registry/config.yml");
      const config = step.files.find((f) => f.path.endsWith("config.yml"))!.content;
      expect(config).toContain("path: /run/credentials/docker-registry.service/htpasswd");
      expect(config).toContain("key: /run/credentials/docker-registry.service/tls.key");
      expect(config).toContain("rootdirectory: /var/lib/docker-registry");
    });

    test("THEN GC runs from a daily timer with the registry stopped", () => {
      const timer = step.files.find((f) => f.path.endsWith(".timer"))!.content;
      expect(timer).toContain("OnCalendar=*-*-* 01:00:00");
      const svc = step.files.find((f) => f.path.endsWith("edgecloud-registry-gc.service"))!.content;
      expect(svc).toContain("ExecStartPre=/bin/systemctl stop docker-registry.service");
      expect(svc).toContain("ExecStopPost=/bin/systemctl start docker-registry.service");
    });

    test("THEN the bundle and its delete bundle pass shellcheck", () => {
      expect(shellcheckStep(step)).toBe("");
    });

    test("THEN the script matches the snapshot", () => {
      expect(step.script).toMatchSnapshot();
      expect(step.deleteScript).toMatchSnapshot();
      expect(step.files.filter((f) => !f.secret)).toMatchSnapshot();
    });

    test("THEN the bundle never carries a secret outside the base64 file payloads", () => {
      const bundle = renderStepBundle(step);
      expect(bundle).not.toContain("ci-password");
    });
  });

  describe("GIVEN host mode without auth, TLS or GC", () => {
    const [step] = registryHostSteps(
      registryProps({
        mode: { kind: "host", host: "store-1", port: 5443, dataDir: "/srv/registry" },
        tls: { kind: "none" },
        gc: { enabled: false },
      }),
    );
    test("THEN no htpasswd/TLS files, the GC timer is removed, and shellcheck passes", () => {
      expect(step.files.map((f) => f.path)).toEqual([
        "/etc/edgecloud/registry/config.yml",
        "/etc/edgecloud/registry/registry.env",
        "/etc/systemd/system/docker-registry.service.d/override.conf",
      ]);
      expect(step.script).toContain("ec_unit_remove edgecloud-registry-gc.timer");
      expect(step.script).toContain("ec_dir /srv/registry 0750 docker-registry:docker-registry");
      expect(step.script).toContain("/dev/tcp/127.0.0.1/5443");
      expect(shellcheckStep(step)).toBe("");
      expect(step.script).toMatchSnapshot();
    });
  });
});
