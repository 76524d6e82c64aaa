import { OsProfile } from "../platform/os";
import { sh } from "./sh";

/**
 * The inverse of `ec_pkg`: removes packages with the OS's package manager (apt purges: the package's own
 * configuration goes too), only when the first is installed; `ec_changed` when it removed them.
 */
export function removePackages(os: OsProfile, pkgs: readonly string[]): string {
  const [first] = pkgs;
  if (first === undefined) return "";
  return os.packageManager === "apt"
    ? sh`if dpkg-query -W -f='\${Status}' ${first} 2>/dev/null | grep -q 'install ok installed'; then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${pkgs} >/dev/null
  ec_changed
fi`
    : sh`if rpm -q ${first} >/dev/null 2>&1; then
  ${os.packageManager} remove -y -q ${pkgs} >/dev/null
  ec_changed
fi`;
}
