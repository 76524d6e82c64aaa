#!/usr/bin/env bash
# Tears down lab machines whose owning process died (a run killed with SIGKILL). With --all, every lab on this
# machine, also those of live processes: only when no lab run is in progress.
set -euo pipefail
cd "$(dirname "$0")/.."
all=false
[ "${1:-}" = "--all" ] && all=true
exec npx ts-node --transpile-only -e "const n = require('./test/lab/teardown').reapStaleLabs(undefined, console.log, $all); console.log(n + ' lab(s) reaped')"
