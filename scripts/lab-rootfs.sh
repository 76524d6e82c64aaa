#!/usr/bin/env bash
# Builds (or finds cached) the lab's Debian 12 root filesystem under /var/cache/edgecloud-lab, so that
# `npm run test:lab` does not spend its first minutes on debootstrap. Needs root and the lab's host packages.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx ts-node --transpile-only -e 'require("./test/lab/rootfs").ensureRootfs(console.log).then((r) => console.log(`lab rootfs: ${r.dir} (${r.built ? "built" : "cached"})`))'
