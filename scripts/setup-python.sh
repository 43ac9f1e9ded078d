#!/usr/bin/env bash
# The real Python training stack for the `python` test tier (and scripts/chroot-python): PyPI is not
# reachable and Debian bookworm's python3-torch is 1.13 without transformers, so this builds a Debian sid
# chroot (debootstrap, then apt: python3-torch, -transformers, -accelerate, -safetensors, -tokenizers;
# ~7 min and 2.3 GB on a fresh machine) at DAP_TORCH_ROOT (default /var/cache/dap-torch/root, outside the
# clone, so later runs and other clones reuse it). Idempotent: a root whose marker file lists the same
# packages and whose python3 imports them is kept as is (seconds). A root is built into a temporary sibling
# and renamed into place only when complete, so an interrupted build never leaves a half-made root behind;
# concurrent runs wait on a lock. Needs root (CI and the test machines run as root) and a Debian mirror
# (the machine's own apt mirror, else deb.debian.org). When DAP_PYTHON is set, that interpreter is used
# instead and nothing is built.
# `setup-python.sh --openblas` also puts OpenBLAS (Debian's libopenblas0-pthread, unpacked, not installed) in
# ROOT/opt/dap-openblas: Debian's torch calls the reference BLAS through libblas.so.3 (~2 GFLOP/s here), so
# benchmarks run torch with LD_LIBRARY_PATH=/opt/dap-openblas (~5x faster matmuls); tests keep the default.
set -euo pipefail
OPENBLAS=0
[[ "${1:-}" == "--openblas" ]] && OPENBLAS=1

if [[ -n "${DAP_PYTHON:-}" ]]; then
  echo "setup-python: DAP_PYTHON=$DAP_PYTHON is used; no chroot needed"
  exit 0
fi
# The chroot's programs would look for the caller's TMPDIR inside the chroot, where that path does not exist
# (npm test points TMPDIR into its results folder): ca-certificates' postinst then fails in mktemp and dpkg
# leaves torch, transformers and accelerate unconfigured. Everything here uses the default /tmp.
unset TMPDIR
ROOT="${DAP_TORCH_ROOT:-/var/cache/dap-torch/root}"
SUITE="${DAP_TORCH_SUITE:-sid}"
PACKAGES="python3-torch python3-transformers python3-accelerate python3-safetensors python3-tokenizers python3-jinja2"
MARKER="$ROOT/.dap-packages"
WANT="$SUITE: $PACKAGES"
CHECK='import torch, transformers, accelerate, safetensors, tokenizers, jinja2; print(torch.__version__, transformers.__version__, accelerate.__version__)'

ready() {
  [[ -f "$1/.dap-packages" && "$(cat "$1/.dap-packages")" == "$WANT" && -x "$1/usr/bin/python3" ]] || return 1
  DAP_TORCH_ROOT="$1" "$(dirname "${BASH_SOURCE[0]}")/chroot-python" -c "$CHECK" 2>/dev/null
}

if [[ $EUID -ne 0 ]]; then
  echo "setup-python: needs root (debootstrap, chroot, mount); set DAP_PYTHON to an interpreter with torch instead" >&2
  exit 1
fi
mkdir -p "$(dirname "$ROOT")"
exec 9>"$(dirname "$ROOT")/.setup.lock"
flock 9

openblas() { # OpenBLAS into $ROOT/opt/dap-openblas (idempotent)
  local dir="$ROOT/opt/dap-openblas"
  [[ -e "$dir/libblas.so.3" ]] && { echo "setup-python: $dir ready"; return 0; }
  local tmp
  tmp=$(mktemp -d "$ROOT/tmp/openblas.XXXXXX")
  chroot "$ROOT" bash -c "cd ${tmp#"$ROOT"} && apt-get -o Acquire::Check-Valid-Until=false download -qq libopenblas0-pthread" >/dev/null
  dpkg-deb -x "$tmp"/libopenblas0-pthread_*.deb "$tmp/x"
  mkdir -p "$dir.tmp" && cp -a "$tmp"/x/usr/lib/x86_64-linux-gnu/openblas-pthread/. "$dir.tmp"/ && mv "$dir.tmp" "$dir"
  rm -rf "$tmp"
  echo "setup-python: OpenBLAS in $dir (use LD_LIBRARY_PATH=/opt/dap-openblas inside the chroot)"
}

if versions=$(ready "$ROOT"); then
  echo "setup-python: $ROOT ready (torch, transformers, accelerate: $versions)"
  (( OPENBLAS )) && openblas
  exit 0
fi

chroot_apt_install() { # chroot_apt_install DIR: the package list into the chroot at DIR (proc mounted meanwhile)
  # (its own name: scripts/apt-packages.sh, sourced below for the host packages, defines apt_install)
  local rc=0
  mount -t proc proc "$1/proc"
  # The mirror's Release file can read as expired (old snapshot), hence Check-Valid-Until=false.
  chroot "$1" bash -c "apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get -o Acquire::Check-Valid-Until=false install -y -qq --no-install-recommends $PACKAGES && apt-get clean" > "$1.log" 2>&1 || rc=$?
  umount "$1/proc"
  (( rc == 0 )) || tail -20 "$1.log" >&2
  rm -f "$1.log"
  return $rc
}

t0=$(date +%s)
if [[ -x "$ROOT/usr/bin/apt-get" && -x "$ROOT/usr/bin/python3" ]]; then
  # An existing chroot (older package list, or made by hand as recipes/torch-chroot.md says): complete it in place.
  echo "setup-python: updating the packages of $ROOT"
  if chroot_apt_install "$ROOT" && echo "$WANT" > "$MARKER" && versions=$(ready "$ROOT"); then
    echo "setup-python: $ROOT ready in $(( $(date +%s) - t0 ))s (torch, transformers, accelerate: $versions)"
    (( OPENBLAS )) && openblas
    exit 0
  fi
  echo "setup-python: $ROOT could not be completed; building a new one" >&2
fi
. "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"
apt_install setup-python "${APT_PYTHON[@]}"
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[[ -z "$MIRROR" ]] && MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
BUILD="$ROOT.build-$$"
cleanup() { umount "$BUILD/proc" 2>/dev/null || true; rm -rf "$BUILD" "$BUILD.log"; }
trap cleanup EXIT
echo "setup-python: debootstrap $SUITE from $MIRROR into $BUILD"
debootstrap --variant=minbase "$SUITE" "$BUILD" "$MIRROR" > "$BUILD.log" 2>&1 || { tail -20 "$BUILD.log" >&2; exit 1; }
rm -f "$BUILD.log"
echo "setup-python: apt install $PACKAGES"
chroot_apt_install "$BUILD"
echo "$WANT" > "$BUILD/.dap-packages"
# Checked before it replaces anything: a build whose python3 cannot import the stack is removed (trap).
versions=$(ready "$BUILD") || { echo "setup-python: the new chroot cannot import the stack ($CHECK); $ROOT left as it was" >&2; exit 1; }
if [[ -e "$ROOT" ]]; then
  # Replace an outdated or broken root (it may still hold mounts of an older setup: refuse rather than delete through them).
  if grep -q " $ROOT/" /proc/mounts; then echo "setup-python: $ROOT has mounts; unmount them first" >&2; exit 1; fi
  rm -rf "$ROOT"
fi
mv "$BUILD" "$ROOT"
trap - EXIT
echo "setup-python: $ROOT built in $(( $(date +%s) - t0 ))s (torch, transformers, accelerate: $versions)"
(( OPENBLAS )) && openblas
exit 0
