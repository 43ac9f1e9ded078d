#!/usr/bin/env bash
# Fills .gpu/ (git-ignored) with everything scripts/gpu-bench.sh needs on a bare CUDA x86-64 machine that
# may have neither Node.js, nor node_modules, nor the Vulkan loader:
#   .gpu/node.gz                 this machine's Node binary (gzip; unpacked there when `node` is missing)
#   .gpu/debs/*.deb              libvulkan1 + GL/EGL dispatch libraries (unpacked there with dpkg -x)
#   .gpu/bundle/gpu-bench.js     bench/gpu-bench-main.ts bundled with tfjs (no node_modules needed)
#   .gpu/bundle/wasm/*.wasm      tfjs wasm binaries
#   .gpu/bundle/node_modules/webgpu/   the `webgpu` package for linux-x64 (dawn.node gzip'd)
# Everything stays under 64 MiB so it can travel with the working tree. Idempotent (rebuilds all).
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu
rm -rf "$G"
mkdir -p "$G/debs" "$G/bundle/wasm" "$G/bundle/node_modules/webgpu/dist/linux-x64"

echo "prepare-gpu-carry: Vulkan loader and GL dispatch .debs"
(cd "$G/debs" && apt-get download libvulkan1 libglvnd0 libegl1 libglx0 libgl1 2>&1 | tail -n 2) || {
  echo "prepare-gpu-carry: apt-get download failed (run apt-get update?)" >&2; exit 1; }

echo "prepare-gpu-carry: node binary ($(node --version))"
gzip -9 -c "$(readlink -f "$(command -v node)")" > "$G/node.gz"

echo "prepare-gpu-carry: bundle"
npx esbuild bench/gpu-bench-main.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu \
  --outfile="$G/bundle/gpu-bench.js" --log-level=error
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$G/bundle/wasm/"
W=node_modules/webgpu
cp "$W/package.json" "$W/index.js" "$G/bundle/node_modules/webgpu/"
gzip -9 -c "$W/dist/linux-x64/dawn.node" > "$G/bundle/node_modules/webgpu/dist/linux-x64/dawn.node.gz"

size=$(du -sb "$G" | cut -f1)
echo "prepare-gpu-carry: .gpu/ is $((size / 1048576)) MiB"
if [ "$size" -gt $((64 * 1048576)) ]; then echo "prepare-gpu-carry: over 64 MiB!" >&2; exit 1; fi
