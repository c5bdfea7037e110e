#!/usr/bin/env bash
# Debian packages the service and its tests need, installed only when missing:
# Pango and HarfBuzz's subsetter for WeasyPrint, fonts, poppler-utils (pdftotext,
# pdftoppm) for checking packets, the PostgreSQL and Redis servers for tests,
# PgBouncer (tests run the service through it in transaction mode), and
# chromium, which the browser tests (tests/browser, Playwright) and
# scripts/screenshots.py drive: Playwright downloads no browser of its own here.
set -euo pipefail

packages=(
  python3-venv
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
  poppler-utils
  postgresql redis-server pgbouncer
  chromium
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
