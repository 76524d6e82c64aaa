#!/usr/bin/env bash
# Runs the unit tier N times in a row (default 10) and prints, per run, the 1-minute load average at its start and
# end, the wall time and the outcome; exits non-zero if any run failed. It measures flakiness, not speed: run it
# while the machine is busy (e.g. beside a build) to check that no test depends on wall-clock speed.
#   bash scripts/flake-check.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
failed=0
for i in $(seq 1 "$runs"); do
  load0=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s)
  if out=$(npx jest --ci --selectProjects unit 2>&1); then result=pass; else result=FAIL; failed=$((failed + 1)); fi
  summary=$(printf '%s\n' "$out" | grep -E '^Tests:' | tail -1)
  printf 'run %2d: load %s -> %s, %4d s, %s (%s)\n' "$i" "$load0" "$(cut -d' ' -f1 /proc/loadavg)" \
    $(($(date +%s) - t0)) "$result" "$summary"
  [ "$result" = pass ] || printf '%s\n' "$out" | grep -E '^\s+● ' | sort -u | head -20
done
echo "flake-check: $failed of $runs runs failed"
[ "$failed" = 0 ]
