#!/usr/bin/env bash
# Makes sure Debian's Chromium (/usr/bin/chromium) is installed for the browser component tests and the
# code-server end-to-end tests (driven through playwright-core). Idempotent: does nothing when present.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-browser: /usr/bin/chromium is missing; install it as root: apt-get install -y chromium" >&2
  exit 1
fi
echo "setup-browser: installing Debian chromium"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
