# The Debian packages the build and the tests need, in one place, by purpose. Sourced (not run) by
# .ci/run, which installs every group up front, and by the set-up scripts, which install only their own
# group when something is missing:  . "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"
# Installing needs root, or sudo; without either, apt_install says which packages are missing and how to
# install them, and returns 1 (the caller decides whether its step is optional).

# npm ci (native addons: keytar, the native kernels' prebuilt fallback build) and git checkouts.
APT_BUILD=(ca-certificates git python3 make g++ pkg-config unzip)
# Debian's Chromium, driven by playwright-core: test/browser and test/e2e.
APT_BROWSER=(chromium)
# code-server's native modules (kerberos, node-pty, spdlog, keytar, …) and VS Code's search (ripgrep).
APT_CODE_SERVER=(libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep python3 make g++ pkg-config)
# debootstrap builds the Debian sid chroot with torch + transformers + accelerate (scripts/setup-python.sh);
# util-linux's unshare (Essential) gives scripts/chroot-python its private mount namespace.
APT_PYTHON=(debootstrap)
# A software Vulkan driver (Mesa lavapipe) for the WebGPU backend's tests; on bookworm from backports.
APT_VULKAN=(mesa-vulkan-drivers libvulkan1)

# apt_missing PKG...: prints the packages that are not installed, space-separated.
apt_missing() {
  local p missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  echo "${missing[*]}"
}

# apt_can_install: true when this shell may install packages (root, or sudo without a password prompt).
apt_can_install() {
  [[ $(id -u) -eq 0 ]] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}

# apt_install WHO [-t RELEASE] PKG...: installs the missing ones of PKG (apt-get update first), as root or
# with sudo. Without either it prints "WHO: missing Debian packages: …" with the command to run, returns 1.
apt_install() {
  local who="$1"; shift
  local release=()
  if [[ "${1:-}" == "-t" ]]; then release=(-t "$2"); shift 2; fi
  local missing
  missing=$(apt_missing "$@")
  [[ -z "$missing" ]] && return 0
  if ! apt_can_install; then
    echo "$who: missing Debian packages: $missing (install them as root: apt-get install -y ${release[*]} $missing)" >&2
    return 1
  fi
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
  echo "$who: apt-get install $missing"
  "${sudo[@]}" apt-get update -qq
  # shellcheck disable=SC2086
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${release[@]}" $missing >/dev/null
}
