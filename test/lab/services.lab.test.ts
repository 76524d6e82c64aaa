import { parse } from "yaml";
import { nfsClientSteps, nfsServerSteps, validateNfsProvisioner } from "../../components/nfs-provisioner";
import {
  REGISTRY_UNIT,
  registryHostSteps,
  registryK3sRegistries,
  RegistryProps,
  validateRegistry,
} from "../../components/registry";
import { Host, HostSchema } from "../../lib/hosts/host";
import { K3S_REGISTRIES_PATH, renderRegistriesYaml } from "../../lib/k3s/registries";
import { createCa, issueCert } from "../../lib/pki";
import { hostStep, HostStep, makePlan } from "../../lib/steps";
import { IssueCollector } from "../../lib/validation/issues";
import { describeFailures, executePlan, PlanRun } from "./executor";
import { Lab } from "./lab";
import { ROOTFS_PACKAGES } from "./rootfs";

/**
 * Issue 4 on real machines (Debian 12 systemd hosts, offline): the Registry in host mode (Debian's docker-registry
 * with htpasswd + TLS) pushed to and pulled from with skopeo using exactly what the node's registries.yaml holds,
 * anonymous push refused; the NFS server and client steps, with a mount when the kernel lets nfsd run.
 *
 * The hosts are offline: the lab image must carry the packages the steps install (`ec_pkg` then only checks them).
 */
const NEEDED = ["docker-registry", "skopeo", "nfs-kernel-server", "nfs-common"];
const missing = NEEDED.filter((p) => !ROOTFS_PACKAGES.includes(p));
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(180_000);

const STORE = "store-1";
const NODE = "node-1";
let lab: Lab | undefined;
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};

/** The lab hosts as edgecloud hosts: store-1 carries the registry and the NFS export, node-1 is a K3s agent. */
function labHosts(l: Lab): Host[] {
  const roles: Record<string, string[]> = { [STORE]: ["nfs", "registry"], [NODE]: ["agent"] };
  return l.hosts.map((h) =>
    HostSchema.parse({
      name: h.name,
      address: h.address,
      ssh: { privateKey: "lab" },
      os: "debian-12",
      arch: "amd64",
      roles: roles[h.name],
    }),
  );
}

/** What K3sHaCluster does on every node with `registries`: registries.yaml 0600 and the CA files. */
function nodeRegistriesStep(props: RegistryProps): HostStep {
  const r = registryK3sRegistries(props);
  return hostStep({
    host: NODE,
    name: "k3s-registries",
    component: "lab",
    script: ":\n",
    files: [
      ...(r.files ?? []),
      { path: K3S_REGISTRIES_PATH, mode: "0600", content: renderRegistriesYaml(r), secret: true },
    ],
  });
}

/** A one-layer OCI image layout built with coreutils, at /tmp/oci-src:1 on the host. */
const BUILD_IMAGE = String.raw`set -euo pipefail
d=/tmp/oci-src; rm -rf "$d" /tmp/img; mkdir -p "$d/blobs/sha256" /tmp/img
echo "hello from the edgecloud lab" >/tmp/img/hello.txt
tar -C /tmp/img -cf /tmp/layer.tar hello.txt
put() { local s; s=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$d/blobs/sha256/$s"; echo "$s $(stat -c %s "$1")"; }
read -r layer lsize < <(put /tmp/layer.tar)
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$layer" >/tmp/config.json
read -r config csize < <(put /tmp/config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' "$config" "$csize" "$layer" "$lsize" >/tmp/manifest.json
read -r manifest msize < <(put /tmp/manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' "$manifest" "$msize" >"$d/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
echo "sha256:$manifest"`;

/** skopeo with the credentials and CA of the node's registries.yaml (auth file and cert dir, never argv). */
const SKOPEO_FROM_REGISTRIES_YAML = String.raw`set -euo pipefail
reg=$1
user=$(awk '/username:/ {print $2; exit}' ${K3S_REGISTRIES_PATH})
pass=$(awk '/password:/ {print $2; exit}' ${K3S_REGISTRIES_PATH})
ca=$(awk '/ca_file:/ {print $2; exit}' ${K3S_REGISTRIES_PATH})
install -d -m 0700 /root/lab-certs
cp "$ca" /root/lab-certs/ca.crt
umask 077
printf '{"auths":{"%s":{"auth":"%s"}}}' "$reg" "$(printf '%s:%s' "$user" "$pass" | base64 -w0)" >/root/lab-auth.json`;

/** Push with the node's credentials (digests preserved), pull back into a fresh layout, print the digest and the file. */
const PUSH_PULL = String.raw`skopeo copy --quiet --preserve-digests --dest-authfile /root/lab-auth.json --dest-cert-dir /root/lab-certs oci:/tmp/oci-src:1 docker://REGISTRY/lab/hello:1
rm -rf /tmp/oci-pulled
skopeo copy --quiet --src-authfile /root/lab-auth.json --src-cert-dir /root/lab-certs docker://REGISTRY/lab/hello:1 oci:/tmp/oci-pulled:1
skopeo inspect --authfile /root/lab-auth.json --cert-dir /root/lab-certs --format '{{.Digest}}' docker://REGISTRY/lab/hello:1
manifest=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' /tmp/oci-pulled/index.json)
layer=$(sed -n 's/.*"layers":\[{[^}]*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' "/tmp/oci-pulled/blobs/sha256/$manifest")
tar -xOf "/tmp/oci-pulled/blobs/sha256/$layer" hello.txt`;

(missing.length > 0 ? describe.skip : describe)(
  `services on lab hosts${missing.length > 0 ? ` (skipped: the lab image lacks ${missing.join(", ")}; add them to ROOTFS_PACKAGES)` : ""}`,
  () => {
    let hosts: Host[];
    beforeAll(async () => {
      lab = await Lab.start({ hosts: [{ name: STORE }, { name: NODE }], log });
      hosts = labHosts(lab);
    }, 20 * 60_000);
    afterAll(async () => {
      await lab?.stop(log);
    });

    describe("GIVEN the Registry in host mode with htpasswd and a generated TLS certificate", () => {
      let props: RegistryProps;
      let first: PlanRun;
      let endpoint: string;
      beforeAll(async () => {
        const issues = new IssueCollector();
        const plan = validateRegistry(
          {
            mode: { kind: "host", host: STORE },
            auth: {
              users: [
                { username: "ci", password: "ci-lab-password" },
                { username: "node", password: "node-lab-password" },
              ],
              nodeUser: "node",
            },
          },
          hosts,
          issues,
        );
        issues.throwIfAny();
        const ca = await createCa("lab registry CA", 30);
        const cert = await issueCert(ca, {
          commonName: plan!.endpoint.split(":")[0],
          ips: [...plan!.sans.ips],
          dnsNames: [...plan!.sans.dnsNames],
          usages: ["server"],
          validityDays: 30,
        });
        endpoint = plan!.endpoint;
        props = {
          spec: plan!.spec,
          endpoint,
          mirrorEndpoints: plan!.mirrorEndpoints,
          nodeAddresses: plan!.nodeAddresses,
          host: plan!.host,
          users: [
            { username: "ci", password: "ci-lab-password" },
            { username: "node", password: "node-lab-password" },
          ],
          nodeUser: "node",
          httpSecret: "lab-http-secret-0123456789abcdef",
          tls: { kind: "tls", certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem },
        };
        first = await executePlan(the(), makePlan([...registryHostSteps(props), nodeRegistriesStep(props)]));
      });

      test("THEN the steps succeed and the registry serves TLS on 5000 as the docker-registry user", async () => {
        expect(describeFailures(first)).toBe("no failures");
        const out = await the().sh(
          STORE,
          `systemctl is-active ${REGISTRY_UNIT}; ps -o user= -C docker-registry | head -1; stat -c '%a %U' /etc/edgecloud/registry/htpasswd /etc/edgecloud/registry/tls.key`,
        );
        expect(out.trim().split("\n")).toEqual(["active", "docker-registry", "600 root", "600 root"]);
      });

      test("THEN a second run changes nothing", async () => {
        const again = await executePlan(the(), makePlan([...registryHostSteps(props), nodeRegistriesStep(props)]));
        expect(describeFailures(again)).toBe("no failures");
        expect(again.steps.map((s) => [s.id, s.changed])).toEqual([
          [`${STORE}/registry`, 0],
          [`${NODE}/k3s-registries`, 0],
        ]);
      });

      test("THEN the node's registries.yaml is 0600 and names the https endpoint, the node user and the CA", async () => {
        const out = await the().sh(NODE, `stat -c %a ${K3S_REGISTRIES_PATH}; cat ${K3S_REGISTRIES_PATH}`);
        const [mode, ...yaml] = out.split("\n");
        expect(mode).toBe("600");
        const r = parse(yaml.join("\n"));
        expect(r.mirrors[endpoint].endpoint).toEqual([`https://${endpoint}`]);
        expect(r.configs[endpoint].auth.username).toBe("node");
        expect(r.configs[endpoint].tls.ca_file).toMatch(/^\/etc\/rancher\/k3s\/registry-ca\//);
      });

      test("THEN skopeo pushes and pulls an OCI image with exactly those credentials and that CA", async () => {
        const digest = (await the().sh(NODE, BUILD_IMAGE)).trim();
        const out = await the().sh(
          NODE,
          `${SKOPEO_FROM_REGISTRIES_YAML.replace("reg=$1", `reg=${endpoint}`)}\n${PUSH_PULL.replaceAll("REGISTRY", endpoint)}`,
        );
        expect(out.trim().split("\n")).toEqual([digest, "hello from the edgecloud lab"]);
      });

      test("THEN an anonymous push is refused (401), and so is a client that does not trust the CA", async () => {
        const anon = await the().exec(
          NODE,
          `skopeo copy --dest-cert-dir /root/lab-certs oci:/tmp/oci-src:1 docker://${endpoint}/lab/anon:1 2>&1`,
        );
        expect(anon.code).not.toBe(0);
        expect(anon.stdout).toMatch(/unauthorized|authentication required/i);
        const untrusted = await the().exec(
          NODE,
          `skopeo inspect --authfile /root/lab-auth.json docker://${endpoint}/lab/hello:1 2>&1`,
        );
        expect(untrusted.code).not.toBe(0);
        expect(untrusted.stdout).toMatch(/x509|certificate/i);
      });

      test("THEN the delete bundle stops the service and removes its config, keeping the data", async () => {
        const del = await executePlan(the(), makePlan(registryHostSteps(props)), { mode: "delete" });
        expect(describeFailures(del)).toBe("no failures");
        const out = await the().sh(
          STORE,
          `systemctl is-active ${REGISTRY_UNIT} || true; test -e /etc/edgecloud/registry && echo present || echo gone; test -d /var/lib/docker-registry/docker && echo data || echo nodata`,
        );
        expect(out.trim().split("\n")).toEqual(["inactive", "gone", "data"]);
      });
    });

    describe("GIVEN the NFS server on store-1 and the client on node-1", () => {
      let run: PlanRun;
      beforeAll(async () => {
        const issues = new IssueCollector();
        const props = validateNfsProvisioner({ server: { kind: "host", host: STORE } }, hosts, issues);
        issues.throwIfAny();
        run = await executePlan(the(), makePlan([...nfsServerSteps(props!), ...nfsClientSteps(props!)]));
      });

      test("THEN the client step succeeds and mount.nfs exists on the node", async () => {
        expect(run.get(`${NODE}/nfs-client`).ok).toBe(true);
        expect((await the().sh(NODE, "command -v mount.nfs")).trim()).toMatch(/mount\.nfs$/);
      });

      test("THEN the export is restricted to the node, and the share mounts and round-trips a file when nfsd can run here", async () => {
        const exportsFile = await the().sh(STORE, "cat /etc/exports.d/edgecloud.exports");
        expect(exportsFile).toContain(
          `/srv/nfs/k8s ${hosts.find((h) => h.name === NODE)!.address}/32(rw,sync,no_subtree_check,no_root_squash)`,
        );
        const server = run.get(`${STORE}/nfs-server`);
        if (!server.ok) {
          // The limit of the lab: nspawn containers share the host kernel and cannot start its nfsd.
          const why = await the().exec(
            STORE,
            "systemctl status nfs-server.service --no-pager 2>&1 | tail -5; exportfs -v 2>&1 || true",
          );
          log(
            `nfs-server did not start in the lab (kernel nfsd unavailable in the container):\n${server.stderr.slice(-800)}\n${why.stdout}`,
          );
          expect(server.stderr).toMatch(/nfs-server|export \/srv\/nfs\/k8s is not active|nfsd/);
          return;
        }
        const storeAddr = hosts.find((h) => h.name === STORE)!.address;
        const out = await the().sh(
          NODE,
          `mkdir -p /mnt/nfs && mount -t nfs -o nfsvers=4.1 ${storeAddr}:/srv/nfs/k8s /mnt/nfs
echo lab-roundtrip >/mnt/nfs/probe.txt && sync && umount /mnt/nfs`,
        );
        expect(out).toBe("");
        expect((await the().sh(STORE, "cat /srv/nfs/k8s/probe.txt")).trim()).toBe("lab-roundtrip");
      });
    });
  },
);
