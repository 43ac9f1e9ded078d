#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) so that the WebGPU backend (Dawn via the `webgpu`
# npm package) finds an adapter on a CPU-only Debian bookworm machine (CI). Idempotent: does nothing
# when a lavapipe ICD from Mesa >= 23 is already installed. Debian bookworm's own Mesa 22.3 lavapipe is
# rejected by Dawn; Mesa 25.x from bookworm-backports works.
# Needs root (or sudo) and the Debian apt mirrors. Exit status 0 when Vulkan is usable afterwards.
set -euo pipefail

have_good_lavapipe() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] || return 1
  dpkg-query -W -f='${Version}' libvulkan1 >/dev/null 2>&1 || return 1
  # Mesa major version >= 23
  [ "${v%%.*}" -ge 23 ] 2>/dev/null
}

if have_good_lavapipe; then
  echo "setup-vulkan: Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-vulkan: need root to install mesa-vulkan-drivers" >&2; exit 1
  fi
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" != "bookworm" ]; then
  # Other releases: their own Mesa is usually new enough.
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1
else
  list=/etc/apt/sources.list.d/backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee "$list" >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
fi

if have_good_lavapipe; then
  echo "setup-vulkan: installed Mesa $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) lavapipe"
else
  echo "setup-vulkan: lavapipe installed but older than Mesa 23: Dawn may reject it" >&2
  exit 1
fi
