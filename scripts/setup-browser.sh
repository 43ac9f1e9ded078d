#!/usr/bin/env bash
# Makes sure Debian's Chromium (/usr/bin/chromium) is installed for the browser component tests and the
# code-server end-to-end tests (driven through playwright-core). Idempotent: does nothing when present.
# Installing needs root or sudo (scripts/apt-packages.sh); without either it says what to run and fails.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"

if [[ -x /usr/bin/chromium ]]; then
  echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
apt_install setup-browser "${APT_BROWSER[@]}"
/usr/bin/chromium --version
