# shellcheck shell=bash
# The bash library every edgecloud step bundle starts with (see lib/steps/bundle.ts).
set -euo pipefail
umask 077
export LC_ALL=C
EC_CHANGED=0
declare -A EC_FILE_CHANGED=()

ec_log() { printf 'edgecloud: %s\n' "$*" >&2; }
ec_changed() { EC_CHANGED=$((EC_CHANGED + 1)); }

# ec_put PATH MODE OWNER — content (base64) on stdin; atomic, rewrites only when the content differs.
ec_put() {
  local path=$1 mode=$2 owner=$3 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.ec.XXXXXX")
  base64 -d >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
  else
    chmod "$mode" "$tmp"
    chown "$owner" "$tmp"
    mv -f "$tmp" "$path"
    EC_FILE_CHANGED[$path]=1
    ec_changed
    return 0
  fi
  if [ "$(stat -c '%a %U:%G' "$path")" != "$(printf '%o' "$((8#$mode))") $owner" ]; then
    chmod "$mode" "$path"
    chown "$owner" "$path"
    ec_changed
  fi
}

# ec_file_changed PATH — true when this run rewrote PATH.
ec_file_changed() { [ -n "${EC_FILE_CHANGED[$1]:-}" ]; }

# ec_any_changed PATH... — true when this run rewrote any of them.
ec_any_changed() {
  local p
  for p in "$@"; do
    if ec_file_changed "$p"; then return 0; fi
  done
  return 1
}

# ec_dir PATH MODE OWNER — create a directory (or fix its mode/owner).
ec_dir() {
  local path=$1 mode=$2 owner=$3
  if [ ! -d "$path" ]; then
    mkdir -p "$path"
    chmod "$mode" "$path"
    chown "$owner" "$path"
    ec_changed
  elif [ "$(stat -c '%a %U:%G' "$path")" != "$(printf '%o' "$((8#$mode))") $owner" ]; then
    chmod "$mode" "$path"
    chown "$owner" "$path"
    ec_changed
  fi
}

# ec_pkg MANAGER PACKAGE... — install missing packages with apt, dnf or yum.
ec_pkg() {
  local manager=$1 p missing=()
  shift
  for p in "$@"; do
    case "$manager" in
      apt) dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p") ;;
      dnf | yum) rpm -q "$p" >/dev/null 2>&1 || missing+=("$p") ;;
      *) ec_log "unknown package manager $manager"; return 2 ;;
    esac
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  case "$manager" in
    apt)
      # a fresh host may have no package lists yet: update once and retry
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
      ;;
    dnf) dnf install -y -q "${missing[@]}" >/dev/null ;;
    yum) yum install -y -q "${missing[@]}" >/dev/null ;;
  esac
  ec_changed
}

# ec_user NAME HOME — a system user without login shell.
ec_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd --system --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1" 2>/dev/null ||
      useradd -r -d "$2" -M -s /sbin/nologin "$1"
    ec_changed
  fi
}

# ec_unit UNIT [FILE...] — daemon-reload when a unit file changed, enable, start; restart when any FILE changed.
ec_unit() {
  local unit=$1
  shift
  if ec_any_changed "/etc/systemd/system/$unit" "/etc/systemd/system/$unit.d/override.conf"; then
    systemctl daemon-reload
  fi
  if ! systemctl is-enabled --quiet "$unit" 2>/dev/null; then
    systemctl enable --quiet "$unit"
    ec_changed
  fi
  if ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit"
    ec_changed
  elif [ "$#" -gt 0 ] && ec_any_changed "$@" "/etc/systemd/system/$unit"; then
    systemctl restart "$unit"
    ec_changed
  fi
}

# ec_unit_remove UNIT — stop, disable and delete a unit we installed.
ec_unit_remove() {
  local unit=$1
  if systemctl list-unit-files "$unit" >/dev/null 2>&1 && systemctl cat "$unit" >/dev/null 2>&1; then
    systemctl disable --now --quiet "$unit" 2>/dev/null || true
    ec_changed
  fi
  if [ -e "/etc/systemd/system/$unit" ] || [ -d "/etc/systemd/system/$unit.d" ]; then
    rm -rf "/etc/systemd/system/$unit" "/etc/systemd/system/$unit.d"
    systemctl daemon-reload
    ec_changed
  fi
}

# ec_rm PATH... — remove files or directories that exist.
ec_rm() {
  local p
  for p in "$@"; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      rm -rf -- "$p"
      ec_changed
    fi
  done
}

# ec_rmdir_empty DIR... — remove directories that exist and are empty (in the order given: deepest first).
ec_rmdir_empty() {
  local d
  for d in "$@"; do
    if [ -d "$d" ] && rmdir "$d" 2>/dev/null; then ec_changed; fi
  done
}

# ec_retry TRIES DELAY CMD... — run CMD until it succeeds.
ec_retry() {
  local tries=$1 delay=$2 i
  shift 2
  for ((i = 1; i <= tries; i++)); do
    if "$@"; then return 0; fi
    [ "$i" -lt "$tries" ] && sleep "$delay"
  done
  return 1
}

# ec_fingerprint FILE... — sha256 over the files' contents (a missing file counts as empty).
ec_fingerprint() {
  local f
  for f in "$@"; do
    if [ -f "$f" ]; then cat "$f"; fi
    printf '\0'
  done | sha256sum | cut -d' ' -f1
}

# ec_applied_get NAME / ec_applied_set NAME VALUE — the fingerprint of the configuration a service last
# (re)started with. Comparing it with the files on disk restarts a service whose new files were written by a run
# that was cut before the restart.
ec_applied_get() { cat "/var/lib/edgecloud/applied/$1" 2>/dev/null || true; }
ec_applied_set() {
  mkdir -p /var/lib/edgecloud/applied
  printf '%s\n' "$2" >"/var/lib/edgecloud/applied/$1.tmp"
  mv -f "/var/lib/edgecloud/applied/$1.tmp" "/var/lib/edgecloud/applied/$1"
}
