#!/usr/bin/env bash
# Builds the native kernels (native/src/*.c) into native/prebuilt/linux-x64/dap-kernels.node, the binary
# that ships in the package (committed; nothing is compiled or downloaded at install or run time).
# Needs gcc and Node-API headers (the system's /usr/include/node, or the node-api-headers npm package).
# The binary records a hash of its sources; test/unit/native-kernels.test.ts fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  *) echo "build-native: only linux-x64 is built here ($(uname -s)-$(uname -m)); other platforms use the wasm kernels" >&2; exit 1 ;;
esac
inc=""
for d in node_modules/node-api-headers/include /usr/include/node; do
  if [ -f "$d/node_api.h" ]; then inc="$d"; break; fi
done
[ -n "$inc" ] || { echo "build-native: no node_api.h (npm i node-api-headers, or install nodejs headers)" >&2; exit 1; }
hash=$(node scripts/native-source-hash.mjs)
out=native/prebuilt/$platform
mkdir -p "$out"
gcc -O3 -std=gnu11 -fPIC -shared -pthread -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter \
  -ffp-contract=fast -fno-math-errno -DNAPI_VERSION=8 -DNODE_GYP_MODULE_NAME=dap_kernels \
  -DDAP_SOURCE_HASH="\"$hash\"" -I"$inc" native/src/*.c -o "$out/dap-kernels.node.tmp" -lm \
  -static-libgcc -Wl,--as-needed
mv "$out/dap-kernels.node.tmp" "$out/dap-kernels.node"
echo "build-native: $out/dap-kernels.node (sources $hash)"
