#!/usr/bin/env bash
# System packages for the system tests (real terminal, SSH, Secret Service, browser).
# Lean: one `apt-get update`, no recommended packages, and nothing at all when every tool is
# already installed (so a developer's local run stays fast).
set -euo pipefail

# tool -> Debian package that provides it
declare -A NEED=(
  [tmux]=tmux
  [sshd]=openssh-server
  [ssh]=openssh-client
  [ssh-keygen]=openssh-client
  [dbus-run-session]=dbus
  [dbus-daemon]=dbus
  [gnome-keyring-daemon]=gnome-keyring
  [chromium]=chromium
)

find_tool() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]
}

missing=()
for tool in "${!NEED[@]}"; do
  if ! find_tool "$tool"; then missing+=("${NEED[$tool]}"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "== system deps: all present"
  exit 0
fi
# de-duplicate
mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "== system deps: missing ${pkgs[*]} (not root, not installing; system tests will skip" \
       "locally and fail under CI)" >&2
  exit 0
fi
start=$(date +%s)
echo "== system deps: installing ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# openssh-server's postinst may try to start the service; there is no init here, so tell
# invoke-rc.d not to (policy-rc.d exit 101 = "action forbidden").
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi
echo "== system deps: installed in $(( $(date +%s) - start )) s"
