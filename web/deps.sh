#!/usr/bin/env bash
# Installs what the web tests need (go test ./web/...): Node.js >= 20 with
# npm, Debian's Chromium, and the npm packages of package-lock.json. Uses
# apt-get when run as root; otherwise says what is missing and fails.
set -euo pipefail
cd "$(dirname "$0")"

install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
	else
		echo "web/deps.sh: missing $*; install it (Debian: sudo apt-get install -y $*)" >&2
		exit 1
	fi
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	install nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "web/deps.sh: node $(node --version) is too old; playwright-core needs Node.js >= 20" >&2
	exit 1
fi
if [ ! -x "${KEFU_CHROMIUM:-/usr/bin/chromium}" ]; then
	install chromium
fi
# npm writes node_modules/.package-lock.json on every install.
if [ node_modules/.package-lock.json -ot package-lock.json ]; then
	npm ci --no-audit --no-fund
fi
