#!/usr/bin/env bash
# Render cfcompat's HTML report of a repository to a PNG with headless Chromium (a visual check; not in CI).
#
#   scripts/render_html.sh PATH OUT.png [WIDTHxHEIGHT] [extra cfcompat scan options...]
#
# CFCOMPAT_HTML_VIEW=FRAGMENT opens a filtered view, e.g. CFCOMPAT_HTML_VIEW='severity=blocker&group=file'.
# Needs `chromium` (Debian: apt-get install -y chromium) and cfcompat on PATH (or CFCOMPAT=/path/to/cfcompat).
# Chromium runs with no network use of its own (background networking, sync, updates off) and a throwaway profile.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PATH OUT.png [WIDTHxHEIGHT] [scan options...]" >&2
  exit 2
fi
repo=$1; out=$2; shift 2
size=${1:-1280x2000}
if [ $# -gt 0 ]; then shift; fi
cfcompat=${CFCOMPAT:-cfcompat}
chromium_bin=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chromium_bin" ]; then
  echo "$0: chromium not found (Debian: apt-get update && apt-get install -y chromium)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cfcompat" scan "$repo" --format html "$@" > "$work/report.html"
"$chromium_bin" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$work/profile" --window-size="${size/x/,}" \
  --screenshot="$work/shot.png" "file://$work/report.html${CFCOMPAT_HTML_VIEW:+#$CFCOMPAT_HTML_VIEW}" >/dev/null 2>&1
mkdir -p "$(dirname "$out")"
mv "$work/shot.png" "$out"
echo "$out"
