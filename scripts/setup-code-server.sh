#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 served to a browser) into the git-ignored folder
# .vscode-test/code-server/ for the end-to-end tests in test/e2e. It has its own package.json there, so
# the project's node_modules and package-lock.json are never touched. Idempotent: a marker file records a
# finished install and makes later runs a no-op. code-server's own postinstall (which downloads ripgrep
# from GitHub) is skipped and replaced by the steps below. Debian packages: scripts/apt-packages.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"

VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.vscode-test/code-server"
MARKER="$DIR/.installed-$VERSION"
ENTRY="$DIR/node_modules/code-server/out/node/entry.js"

if [[ -f "$MARKER" && -f "$ENTRY" ]]; then
  echo "setup-code-server: code-server $VERSION already installed in $DIR"
  exit 0
fi

start=$(date +%s)

# System packages the native modules build against, plus ripgrep (VS Code's search) and chromium.
apt_install setup-code-server "${APT_CODE_SERVER[@]}" "${APT_BROWSER[@]}"

# node-gyp must use the local Node headers (no download from nodejs.org here).
NODE_PREFIX="$(dirname "$(dirname "$(command -v node)")")"
if [[ -f "$NODE_PREFIX/include/node/common.gypi" ]]; then
  export npm_config_nodedir="$NODE_PREFIX"
fi
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# node-pty's postinstall runs `npx node-gyp ...`: let npx fetch it from the npm registry without a prompt.
export npm_config_yes=true

mkdir -p "$DIR"
cd "$DIR"
if [[ ! -f package.json ]]; then
  printf '{\n  "name": "dap-studio-e2e-code-server",\n  "private": true,\n  "version": "0.0.0"\n}\n' > package.json
fi

echo "setup-code-server: npm install code-server@$VERSION (scripts skipped)"
npm install --ignore-scripts --no-package-lock "code-server@$VERSION"

VSCODE="$DIR/node_modules/code-server/lib/vscode"
echo "setup-code-server: VS Code's own dependencies and native modules"
(
  cd "$VSCODE"
  npm install --omit=dev --ignore-scripts
  # Debian's rg stands in for @vscode/ripgrep's binary (its postinstall would download it from GitHub).
  # Put in place before the rebuild: that postinstall then finds bin/ and skips the download (and its
  # ~30 s of retries), so every other failure of the rebuild is a real one.
  mkdir -p node_modules/@vscode/ripgrep/bin
  ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
  # Builds kerberos, node-pty, @vscode/spdlog, native-watchdog, @parcel/watcher, ... for this Node.
  npm rebuild
  ln -sfn node_modules node_modules.asar
)
(
  cd "$VSCODE/extensions"
  npm install --omit=dev --ignore-scripts
)
npm rebuild argon2

# The native modules the server cannot start without must have been built.
for m in node-pty/build/Release/pty.node @vscode/spdlog/build/Release/spdlog.node; do
  if [[ ! -f "$VSCODE/node_modules/$m" ]]; then
    echo "setup-code-server: native module $m was not built" >&2
    exit 1
  fi
done

# (A first run may log a line about its config file before the version; XDG_CONFIG_HOME keeps that
# file out of the user's home.)
version_line="$(XDG_CONFIG_HOME="$DIR/.config" node "$ENTRY" --version | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -n 1 || true)"
echo "setup-code-server: $version_line"
if [[ "$version_line" != "$VERSION "* ]]; then
  echo "setup-code-server: expected code-server $VERSION, got: $version_line" >&2
  exit 1
fi

touch "$MARKER"
echo "setup-code-server: done in $(( $(date +%s) - start ))s"
