#!/usr/bin/env bash
# Refuses to start a tier that needs root instead of letting its tests skip: a tier that skipped is not green.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "needs root: $1 (run it as root, or leave this tier out)" >&2
  exit 1
fi
