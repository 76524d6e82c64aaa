import { osProfile } from "../../lib/platform/os";
import { closeFirewall, FirewallOpening, FirewallPort, openFirewall } from "../../lib/steps/firewall";
import { hostStep, HostStep } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { NfsProvisionerProps } from "./spec";

export const NFS_COMPONENT = "nfs-provisioner";
/** edgecloud's exports live in their own file, so that the admin's /etc/exports is never edited. */
export const EXPORTS_FILE = "/etc/exports.d/edgecloud.exports";

/** The exports(5) line: the export restricted to each client network. */
export function renderExports(props: NfsProvisionerProps): string {
  const server = props.spec.server;
  if (server.kind !== "host") throw new Error("renderExports needs a host-kind NFS server");
  const opts = server.exportOptions.join(",");
  return `# managed by edgecloud (${NFS_COMPONENT})\n${props.exportPath} ${props.allowedClients.map((c) => `${c}(${opts})`).join(" ")}\n`;
}

/**
 * The NFS server on its host: the distribution's server package, an optional dedicated disk (formatted only
 * when it carries no filesystem and no partition table), the export directory, an exports file restricted to the
 * client networks, `exportfs -ra` when it changed, nfs-server enabled, and the firewall opened to those networks
 * only, in whichever of firewalld and ufw runs on the host (see {@link nfsFirewall}).
 */
export function nfsServerSteps(props: NfsProvisionerProps): HostStep[] {
  const server = props.spec.server;
  if (server.kind !== "host" || !props.serverHost) return [];
  const os = osProfile(props.serverHost.os);
  const mp = props.exportPath;
  const v3 = props.spec.storageClass.nfsVersion === "3";
  const lines: string[] = [sh`ec_pkg ${os.packageManager} ${os.packages.nfsServer}`];
  if (server.disk) lines.push(...diskScript(server.disk.device, server.disk.fsType, mp));
  lines.push(
    sh`ec_dir ${mp} 0755 root:root`,
    "ec_dir /etc/exports.d 0755 root:root",
    "ec_unit nfs-server.service",
    sh`if ec_file_changed ${EXPORTS_FILE}; then`,
    "  exportfs -ra",
    "fi",
    // exportfs -v lists nothing when nfsd is not running (e.g. a kernel without nfsd): say so instead of passing silently
    sh`if ! exportfs -v | grep -qF -- ${mp}; then`,
    sh`  ec_log ${`export ${mp} is not active; exportfs -v shows:`}`,
    "  exportfs -v >&2 || true",
    "  exit 1",
    "fi",
  );
  const firewall = nfsFirewall(props.allowedClients, v3);
  lines.push(openFirewall(firewall));
  const del: string[] = [sh`ec_rm ${EXPORTS_FILE}`, "if command -v exportfs >/dev/null 2>&1; then exportfs -ra; fi"];
  del.push(closeFirewall(firewall));
  del.push("# the export's data, the disk and the server package are kept");
  return [
    hostStep({
      host: props.serverHost.name,
      name: "nfs-server",
      component: NFS_COMPONENT,
      script: lines.join("\n") + "\n",
      files: [{ path: EXPORTS_FILE, mode: "0644", content: renderExports(props), secret: false }],
      deleteScript: del.join("\n") + "\n",
    }),
  ];
}

function diskScript(device: string, fsType: "ext4" | "xfs", mp: string): string[] {
  return [
    sh`dev=${device}`,
    sh`mp=${mp}`,
    sh`fs_type=${fsType}`,
    'if [ ! -b "$dev" ]; then',
    '  ec_log "NFS disk $dev is not a block device"',
    "  exit 1",
    "fi",
    'fstype=$(blkid -p -o value -s TYPE "$dev" 2>/dev/null || true)',
    'if [ -z "$fstype" ]; then',
    "  # never format a disk that carries anything: a partition table, a RAID/LVM member, any signature",
    // blkid -p exits 2 only when it finds nothing; 0 is a signature, 8 several (ambivalent), anything else an
    // error: only 2 means an empty disk (blkid(8), util-linux: "exit code 2 ... 8 ... ambivalent probing result")
    "  probe=0",
    '  blkid -p "$dev" >/dev/null 2>&1 || probe=$?',
    '  if [ "$probe" -ne 2 ] || [ "$(lsblk -n -o NAME "$dev" | wc -l)" -gt 1 ]; then',
    '    ec_log "refusing to format $dev: it has partitions or a signature (blkid -p exit $probe)"',
    "    exit 1",
    "  fi",
    sh`  mkfs.${fsType} -q "$dev"`,
    "  ec_changed",
    'elif [ "$fstype" != "$fs_type" ]; then',
    '  ec_log "$dev already holds a $fstype filesystem, not $fs_type; it is left untouched"',
    "  exit 1",
    "fi",
    'uuid=$(blkid -p -o value -s UUID "$dev")',
    'entry="UUID=$uuid $mp $fs_type defaults,nofail 0 2"',
    'if ! grep -qxF "$entry" /etc/fstab; then',
    "  awk -v mp=\"$mp\" '$2 != mp' /etc/fstab >/etc/fstab.ec-new",
    "  printf '%s\\n' \"$entry\" >>/etc/fstab.ec-new",
    "  chmod 0644 /etc/fstab.ec-new",
    "  mv -f /etc/fstab.ec-new /etc/fstab",
    "  systemctl daemon-reload",
    "  ec_changed",
    "fi",
    'mkdir -p "$mp"',
    'if ! mountpoint -q "$mp"; then',
    '  mount "$mp"',
    "  ec_changed",
    "fi",
  ];
}

/**
 * The NFS server's ports, opened to the client networks only: the ports of firewalld's own service definitions
 * (firewalld/firewalld v1.3.3 config/services/nfs.xml: 2049/tcp; for NFSv3 also nfs3.xml: 2049/udp, mountd.xml:
 * 20048/tcp+udp, rpc-bind.xml: 111/tcp+udp), the same on ufw. NFSv3's mountd must listen on 20048 (RHEL's
 * default; Debian picks a port at random unless /etc/nfs.conf `[mountd] port=20048`).
 */
export function nfsFirewall(clients: readonly string[], v3: boolean): FirewallOpening {
  const ports: FirewallPort[] = v3
    ? [
        { port: 2049, protocol: "tcp" },
        { port: 2049, protocol: "udp" },
        { port: 20048, protocol: "tcp" },
        { port: 20048, protocol: "udp" },
        { port: 111, protocol: "tcp" },
        { port: 111, protocol: "udp" },
      ]
    : [{ port: 2049, protocol: "tcp" }];
  return { rules: ports.map((p) => ({ ...p, sources: clients })) };
}
