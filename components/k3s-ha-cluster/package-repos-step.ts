import { Host } from "../../lib/hosts/host";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { PACKAGE_REPOS_STEP } from "./anchors";
import { COMPONENT } from "./etcd/component";

export const CENTOS7_REPO_FILE = "/etc/yum.repos.d/edgecloud-centos7.repo";
const STOCK = "/etc/yum.repos.d/CentOS-Base.repo";
const STOCK_ASIDE = `${STOCK}.edgecloud-disabled`;

/** The yum repositories of a CentOS 7 host pointed at its `packageMirror` (vault layout). */
export function renderCentos7Repo(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return ["base:os", "updates:updates", "extras:extras"]
    .map((r) => {
      const [id, dir] = r.split(":");
      return [
        `[edgecloud-${id}]`,
        `name=CentOS-7 ${id} (edgecloud: ${base})`,
        `baseurl=${base}/${dir}/$basearch/`,
        "gpgcheck=1",
        "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7",
        "enabled=1",
        "",
      ].join("\n");
    })
    .join("\n");
}

/**
 * Points a CentOS 7 host's yum at its `packageMirror` before anything is installed there: writes the repository
 * file, moves the stock CentOS-Base.repo (whose mirrorlist.centos.org no longer resolves) aside, and proves the
 * mirror answers (`yum makecache`). The inverse restores the stock file.
 */
export function packageReposStep(host: Host, dependsOn: readonly string[]): HostStep | undefined {
  const m = host.packageMirror;
  if (!m || host.os !== "centos-7") return undefined;
  const script = sh`if [ -f ${STOCK} ]; then
  mv -f ${STOCK} ${STOCK_ASIDE}
  ec_changed
fi
if ec_file_changed ${CENTOS7_REPO_FILE} || [ "\${EC_CHANGED}" -gt 0 ]; then
  yum clean all -q >/dev/null 2>&1 || true
  if ! yum -q makecache >/dev/null; then
    ec_log ${`yum cannot read the package mirror ${m.baseUrl} (hosts[].packageMirror of "${host.name}"); it must serve os/, updates/ and extras/ per $basearch as vault.centos.org does`}
    exit 1
  fi
fi`;
  const deleteScript = sh`ec_rm ${CENTOS7_REPO_FILE}
if [ -f ${STOCK_ASIDE} ] && [ ! -f ${STOCK} ]; then
  mv -f ${STOCK_ASIDE} ${STOCK}
  ec_changed
fi`;
  return hostStep({
    host: host.name,
    name: PACKAGE_REPOS_STEP,
    component: COMPONENT,
    script,
    files: [{ path: CENTOS7_REPO_FILE, mode: "0644", content: renderCentos7Repo(m.baseUrl), secret: false }],
    deleteScript,
    dependsOn,
  });
}
