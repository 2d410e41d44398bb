#!/bin/sh
# trace-screenshot.sh — regenerate docs/trace-example.png: run the example
# project (examples/jaffle) into a temporary store, render `rocky trace
# latest --format html` and screenshot it with headless chromium.
#
#   docs/trace-screenshot.sh BUILD_DIR      (e.g. build)
set -eu
build=${1:?usage: $0 BUILD_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$repo/examples/jaffle" "$tmp/proj"
"$build/bin/rocky" run "$tmp/proj" --state "$tmp/state.db" --threads 4 >/dev/null
"$build/bin/rocky" trace latest --state "$tmp/state.db" --format html >"$tmp/trace.html"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update \
  --disable-sync --user-data-dir="$tmp/profile" --hide-scrollbars \
  --window-size=1140,760 --screenshot="$repo/docs/trace-example.png" \
  "file://$tmp/trace.html" 2>/dev/null
echo "wrote $repo/docs/trace-example.png"
