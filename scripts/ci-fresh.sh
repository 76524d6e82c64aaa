#!/usr/bin/env bash
# Runs .ci/run the way a new machine would: a fresh clone of this repository's committed HEAD (with ../shared
# beside it, as CI has it) and every cache empty — a throw-away HOME (machine config such as ~/.npmrc and
# ~/.config/go/env copied, no caches), npm cache, Go module and build caches, the engine tools cache and the lab's
# rootfs cache and work directory. Prints each stage's time (from .ci/run's own stamps) and the total.
#
#   bash scripts/ci-fresh.sh            # clone HEAD, run, remove everything it made
#   KEEP=1 bash scripts/ci-fresh.sh     # keep the scratch directory (its path is printed) for a look afterwards
#
# Needs root (the lab and engine tiers do) and ~10 GB free under $EDGECLOUD_CI_FRESH_DIR (default /var/tmp).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=$(cd "$src/../shared" 2>/dev/null && pwd) || {
  echo "ci-fresh: $src/../shared is missing (CI has it beside the clone)" >&2
  exit 1
}
base=${EDGECLOUD_CI_FRESH_DIR:-/var/tmp}
scratch=$(mktemp -d "$base/edgecloud-ci-fresh.XXXXXX")
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if [ "${KEEP:-0}" = 1 ]; then
    echo "ci-fresh: kept $scratch"
  else
    # the Go module cache is written read-only
    chmod -R u+w "$scratch" 2>/dev/null || true
    rm -rf -- "$scratch"
  fi
  exit "$rc"
}
trap cleanup EXIT

mkdir -p "$scratch/home/.config" "$scratch/cache"
# Machine configuration, not caches: a new machine of this kind has these too.
for f in .npmrc .gitconfig; do [ -f "$HOME/$f" ] && cp -- "$HOME/$f" "$scratch/home/$f"; done
[ -d "$HOME/.config/go" ] && cp -r -- "$HOME/.config/go" "$scratch/home/.config/go"

git clone -q --no-local "$src" "$scratch/main"
ln -s "$shared" "$scratch/shared"
echo "ci-fresh: $(git -C "$scratch/main" log --oneline -1) in $scratch/main"

export HOME="$scratch/home"
export npm_config_cache="$scratch/cache/npm"
export GOMODCACHE="$scratch/cache/gomod"
export GOCACHE="$scratch/cache/gobuild"
export GOPATH="$scratch/cache/gopath"
export EDGECLOUD_TOOLS_CACHE="$scratch/cache/edgecloud-tools"
export EDGECLOUD_LAB_CACHE="$scratch/cache/edgecloud-lab"
export EDGECLOUD_LAB_WORKDIR="$scratch/lab-work"

log="$base/edgecloud-ci-fresh-$(date -u +%Y%m%dT%H%M%SZ).log" # kept after the scratch directory goes
t0=$(date +%s)
set +e
(cd "$scratch/main" && bash .ci/run) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s)

echo
echo "ci-fresh: stage times (fresh caches, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
# .ci/run stamps "== [N s] stage": each stage lasts until the next stamp
grep -E '^== \[[0-9]+ s\] ' "$log" | sed -E 's/^== \[([0-9]+) s\] (.*)$/\1\t\2/' |
  awk -F'\t' -v end=$((t1 - t0)) 'NR > 1 { printf "  %6d s  %s\n", $1 - t, name } { t = $1; name = $2 } END { if (name != "done") printf "  %6d s  %s (did not finish)\n", end - t, name }'
echo "ci-fresh: total $((t1 - t0)) s, exit $rc"
echo "ci-fresh: log $log"
exit "$rc"
