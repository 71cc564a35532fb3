#!/usr/bin/env bash
# Runs the test suite against the newest rxjs 8 pre-release, in a temporary copy of the repository, so the real
# lockfile and node_modules are never touched. Exits non-zero if the install or any test fails.
#
#   bash scripts/rxjs8.sh             # newest 8.x pre-release on the registry
#   RXJS8_VERSION=8.0.0-alpha.14 bash scripts/rxjs8.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

version="${RXJS8_VERSION:-}"
if [ -z "$version" ]; then
  # newest version whose major is 8 (pre-releases included), in the registry's publication order
  version="$(npm view rxjs versions --json | node -e '
    let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () => {
      const eights = JSON.parse(text).filter((v) => /^8\./.test(v));
      if (eights.length === 0) { console.error("rxjs8.sh: no rxjs 8.x version on the registry"); process.exit(1); }
      console.log(eights[eights.length - 1]);
    });')"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rxjs8.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# the tracked files plus untracked ones not ignored (so a working tree runs as it is), never node_modules
git ls-files -z --cached --others --exclude-standard | tar -C "$repo" --null -T - -cf - | tar -C "$work" -xf -
cd "$work"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "rxjs@$version"

installed="$(node -p 'require("rxjs/package.json").version')"
echo "rxjs8.sh: running the test suite against rxjs $installed (newest 8.x: $version)"
if [ "$installed" != "$version" ]; then
  echo "rxjs8.sh: expected rxjs $version, found $installed" >&2
  exit 1
fi
# the library must use rxjs' public API only
if grep -rn "rxjs/internal" src; then
  echo "rxjs8.sh: src imports rxjs internals" >&2
  exit 1
fi
npx vitest run "$@"
echo "rxjs8.sh: test suite passed against rxjs $installed"
