import { registryK3sRegistries } from "../../../components/registry";
import { renderRegistriesYaml } from "../../../lib/k3s/registries";
import { FAKE_CA } from "./fixtures";
import { AUTH, registryProps } from "./props";

describe("registryK3sRegistries", () => {
  test("GIVEN TLS, auth and a NodePort WHEN rendered THEN nodes get https mirrors on every server, the node user's credentials and the CA file", () => {
    const r = registryK3sRegistries(registryProps({ mode: { kind: "in-cluster", nodePort: 32500 }, auth: AUTH }));
    expect(r.mirrors).toEqual({
      "10.0.0.11:32500": { endpoint: ["https://10.0.0.11:32500", "https://10.0.0.12:32500"] },
    });
    const config = {
      auth: { username: "node", password: "node-password" },
      tls: { caFile: "/etc/rancher/k3s/registry-ca/10.0.0.11_32500.crt" },
    };
    expect(r.configs).toEqual({ "10.0.0.11:32500": config, "10.0.0.12:32500": config });
    expect(r.files).toEqual([
      { path: "/etc/rancher/k3s/registry-ca/10.0.0.11_32500.crt", mode: "0644", content: FAKE_CA, secret: false },
    ]);
    expect(renderRegistriesYaml(r)).toMatchSnapshot();
  });

  test("GIVEN an explicit endpoint WHEN rendered THEN it is the only one", () => {
    const r = registryK3sRegistries(
      registryProps({ mode: { kind: "in-cluster", nodePort: 32500, endpoint: "registry.edge.lan:32500" } }),
    );
    expect(r.mirrors).toEqual({ "registry.edge.lan:32500": { endpoint: ["https://registry.edge.lan:32500"] } });
  });

  test("GIVEN TLS off WHEN rendered THEN the endpoint is an explicit http:// URL and no CA is placed", () => {
    const r = registryK3sRegistries(registryProps({ mode: { kind: "host", host: "store-1" }, tls: { kind: "none" } }));
    expect(r.mirrors).toEqual({ "10.0.0.31:5000": { endpoint: ["http://10.0.0.31:5000"] } });
    expect(r.configs).toEqual({});
    expect(r.files).toEqual([]);
  });

  test("GIVEN a Docker Hub pull-through cache WHEN rendered THEN docker.io is mirrored to the registry", () => {
    const r = registryK3sRegistries(
      registryProps({
        mode: { kind: "in-cluster", nodePort: 32500 },
        proxy: { remoteUrl: "https://registry-1.docker.io" },
      }),
    );
    expect(r.mirrors!["docker.io"]).toEqual({ endpoint: ["https://10.0.0.11:32500", "https://10.0.0.12:32500"] });
  });

  test("GIVEN a cache of another registry WHEN rendered THEN its host is mirrored unless mirrorOf says otherwise", () => {
    expect(
      Object.keys(
        registryK3sRegistries(
          registryProps({ mode: { kind: "in-cluster", nodePort: 32500 }, proxy: { remoteUrl: "https://quay.io" } }),
        ).mirrors!,
      ),
    ).toContain("quay.io");
    expect(
      Object.keys(
        registryK3sRegistries(
          registryProps({
            mode: { kind: "in-cluster", nodePort: 32500 },
            proxy: { remoteUrl: "https://mirror.example.com/v2", mirrorOf: "ghcr.io" },
          }),
        ).mirrors!,
      ),
    ).toContain("ghcr.io");
  });
});
