import { OsId, osProfile } from "../../lib/platform/os";

/** How a container runtime is installed on an OS: an optional vendor repository, then packages. */
export interface RuntimeInstall {
  /** A repository file to add before installing (Docker's repo on RHEL-family hosts). */
  readonly repo?: { readonly url: string; readonly file: string };
  readonly packages: readonly string[];
  /** The systemd unit of the runtime. */
  readonly unit: "containerd.service" | "docker.service";
}

const DOCKER_RHEL_REPO = {
  url: "https://download.docker.com/linux/centos/docker-ce.repo",
  file: "/etc/yum.repos.d/docker-ce.repo",
};

/**
 * Packages per OS family and runtime: Debian/Ubuntu ship `containerd` and `docker.io`; openEuler ships `containerd`
 * and `docker`; RHEL, Rocky, Alma, CentOS and Kylin take `containerd.io`/`docker-ce` from Docker's repository.
 * CNI plugins come from the distribution where it has them.
 */
export function runtimeInstall(os: OsId, runtime: "containerd" | "docker"): RuntimeInstall {
  const p = osProfile(os);
  const unit = runtime === "docker" ? "docker.service" : "containerd.service";
  if (p.family === "debian") {
    return {
      packages:
        runtime === "docker"
          ? ["docker.io", "containernetworking-plugins"]
          : ["containerd", "containernetworking-plugins"],
      unit,
    };
  }
  if (os.startsWith("openeuler")) {
    return {
      packages:
        runtime === "docker"
          ? ["docker", "containernetworking-plugins"]
          : ["containerd", "containernetworking-plugins"],
      unit,
    };
  }
  return {
    repo: DOCKER_RHEL_REPO,
    packages: runtime === "docker" ? ["docker-ce", "containerd.io"] : ["containerd.io"],
    unit,
  };
}
