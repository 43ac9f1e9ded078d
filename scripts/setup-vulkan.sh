#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) so that the WebGPU backend (Dawn via the `webgpu`
# npm package) finds an adapter on a CPU-only Debian machine (CI). Idempotent: does nothing when a
# lavapipe ICD from Mesa >= 23 is already installed. Debian bookworm's own Mesa 22.3 lavapipe is rejected
# by Dawn; Mesa 25.x from bookworm-backports works. Optional: without root or sudo (or off Debian) it
# prints why it skipped and exits 0, and the WebGPU tests skip themselves when no adapter is found.
# Exit status 1 only when an install was tried and failed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"

have_good_lavapipe() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] || return 1
  dpkg-query -W -f='${Version}' libvulkan1 >/dev/null 2>&1 || return 1
  # Mesa major version >= 23
  [ "${v%%.*}" -ge 23 ] 2>/dev/null
}

if ! command -v dpkg-query >/dev/null 2>&1 || [[ ! -r /etc/os-release ]]; then
  echo "setup-vulkan: skipped: not a Debian system (the WebGPU tests skip without a Vulkan adapter)"
  exit 0
fi
if have_good_lavapipe; then
  echo "setup-vulkan: Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe already installed"
  exit 0
fi
if ! apt_can_install; then
  echo "setup-vulkan: skipped: Mesa lavapipe >= 23 is not installed and installing it needs root or sudo (the WebGPU tests skip without a Vulkan adapter)"
  exit 0
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  # Other releases: their own Mesa is usually new enough.
  apt_install setup-vulkan "${APT_VULKAN[@]}"
else
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | "${sudo[@]}" tee /etc/apt/sources.list.d/backports.list >/dev/null
  fi
  # A lavapipe older than 23 counts as installed for dpkg: ask for the backports version explicitly.
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports "${APT_VULKAN[@]}" >/dev/null
fi

if have_good_lavapipe; then
  echo "setup-vulkan: installed Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe"
else
  echo "setup-vulkan: lavapipe installed but older than Mesa 23: Dawn may reject it" >&2
  exit 1
fi
