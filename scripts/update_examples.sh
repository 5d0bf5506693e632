#!/usr/bin/env bash
# Regenerate docs/examples/: the migration plans of two fixtures and screenshots of their HTML reports.
#   scripts/update_examples.sh            (needs cfcompat on PATH or CFCOMPAT=..., and chromium for the PNGs)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cfcompat=${CFCOMPAT:-cfcompat}
out="$here/docs/examples"
mkdir -p "$out"
for fx in express-multer-sqlite-cron fastapi-apscheduler-psycopg2; do
  (cd "$here" && "$cfcompat" scan "fixtures/$fx" --format markdown > "$out/$fx.md")
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    CFCOMPAT="$cfcompat" "$here/scripts/render_html.sh" "$here/fixtures/$fx" "$out/$fx.png" 1280x2000 >/dev/null
    size=$(stat -c %s "$out/$fx.png")
    if [ "$size" -gt 512000 ] && command -v convert >/dev/null 2>&1; then
      convert "$out/$fx.png" -resize 75% -strip "$out/$fx.png"
    fi
  else
    echo "chromium not found: kept the existing $fx.png" >&2
  fi
done
ls -l "$out"
