#!/bin/sh
# deps.sh: installs the Debian packages listed in deps.txt that are missing
# (idempotent; prints nothing when everything is there).  Needs root.
set -eu
cd "$(dirname "$0")/.."
want=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' deps.txt)
missing=
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
# npm ships inside some nodejs builds; Debian's own nodejs needs the npm package.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
# Node client used by the czar tests (npm registry), kept under build/.
if [ ! -d build/npm/node_modules/mysql2 ]; then
	mkdir -p build/npm
	npm install --silent --no-audit --no-fund --prefix build/npm mysql2@3 >/dev/null
fi
# The dashboard's browser test driver (Debian's chromium, no browser download).
if [ ! -d build/npm/node_modules/puppeteer-core ]; then
	mkdir -p build/npm
	PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix build/npm puppeteer-core@24.10.0 >/dev/null
fi
