#!/usr/bin/env bash
# Installs what a fresh machine lacks, and nothing else: safe to run again and again.
# Debian packages for the toolchains and the test browser; npm packages from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(emscripten doctest-dev nlohmann-json3-dev chromium binaryen cmake g++ clang libclang-rt-14-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The CLI require()s the page's ES modules (web/shared/): node 20.19+ or 22.12+ does that.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "setup: node $(node --version) cannot require() ES modules; wasmerge needs node >= 20.19 (or >= 22.12)" >&2
  exit 1
fi

# node_modules is rebuilt only when the lock file changed since the last install.
stamp=node_modules/.wasmerge-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
