#!/usr/bin/env bash
# One-command GPU benchmark (< 5 min, installs nothing from the network): checks for Vulkan, then prints
# ONE JSON object with training tokens/s and GFLOP/s of the GPT-2-small shape on webgpu next to wasm.
# Works on a bare CUDA x86-64 image: uses `node` if present (>= 20) else .gpu/node.gz, the Vulkan loader
# from the system or unpacked from .gpu/debs, and NVIDIA's ICD json from the usual places (or writes one
# pointing at libGLX_nvidia.so.0). Fill .gpu/ beforehand with scripts/prepare-gpu-carry.sh.
# Diagnostics go to stderr; stdout is only the JSON. Env: GPU_BENCH_TIMEOUT (seconds, default 280).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
G=$ROOT/.gpu
RUN=${TMPDIR:-/tmp}/dap-gpu-bench
mkdir -p "$RUN"
say() { echo "gpu-bench: $*" >&2; }

# --- Node ---
NODE=$(command -v node || true)
if [ -n "$NODE" ] && ! "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then NODE=""; fi
if [ -z "$NODE" ]; then
  if [ -f "$G/node.gz" ]; then gunzip -c "$G/node.gz" > "$RUN/node" && chmod +x "$RUN/node" && NODE=$RUN/node
  elif [ -x "$G/node" ]; then NODE=$G/node
  else say "no node >= 20 and no .gpu/node.gz (run scripts/prepare-gpu-carry.sh)"; exit 2; fi
fi
say "node $("$NODE" --version) at $NODE"

# --- Vulkan loader ---
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  say "system Vulkan loader found"
elif [ -d "$G/debs" ] && ls "$G"/debs/*.deb >/dev/null 2>&1; then
  PREFIX=$RUN/vkroot
  mkdir -p "$PREFIX"
  for d in "$G"/debs/*.deb; do
    if command -v dpkg >/dev/null 2>&1; then dpkg -x "$d" "$PREFIX"
    else (cd "$RUN" && rm -rf debx && mkdir debx && cd debx && ar x "$d" && tar -xf data.tar.* -C "$PREFIX"); fi
  done
  export LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  say "Vulkan loader unpacked from .gpu/debs into $PREFIX"
else
  say "WARNING: no Vulkan loader (libvulkan.so.1) and no .gpu/debs: webgpu will not start"
fi

# --- NVIDIA ICD ---
ICD=""
for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/lib/x86_64-linux-gnu/vulkan/icd.d; do
  for f in "$dir"/nvidia_icd*.json; do [ -f "$f" ] && { ICD=$f; break 2; }; done
done
if [ -z "$ICD" ]; then
  LIB=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/{print $NF; exit}')
  [ -z "$LIB" ] && LIB=$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 2>/dev/null | head -n 1)
  if [ -n "$LIB" ]; then
    ICD=$RUN/nvidia_icd.json
    printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$LIB" > "$ICD"
    say "no NVIDIA ICD json found; wrote $ICD for $LIB"
  else
    say "WARNING: no NVIDIA Vulkan ICD (nvidia_icd.json / libGLX_nvidia.so.0): the container may lack the 'graphics' driver capability"
  fi
fi
if [ -n "$ICD" ]; then export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD; say "ICD $ICD"; fi
command -v nvidia-smi >/dev/null 2>&1 && say "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"

# --- program: the carried bundle, or the sources through tsx when node_modules is here ---
if [ -f "$G/bundle/gpu-bench.js" ]; then
  DN=$G/bundle/node_modules/webgpu/dist/linux-x64
  [ -f "$DN/dawn.node" ] || gunzip -c "$DN/dawn.node.gz" > "$DN/dawn.node"
  CMD=("$NODE" "$G/bundle/gpu-bench.js")
elif [ -d node_modules/tsx ]; then
  CMD=("$NODE" --import tsx bench/gpu-bench-main.ts)
else
  say "no .gpu/bundle and no node_modules: run scripts/prepare-gpu-carry.sh first"; exit 2
fi
timeout "${GPU_BENCH_TIMEOUT:-280}" "${CMD[@]}"
