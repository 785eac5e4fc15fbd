#!/usr/bin/env bash
# Debian packages the tests and the production profile use, installed only where missing.
# Run as root (CI) or through sudo; nothing here downloads at run time afterwards.
set -euo pipefail
packages=(chromium fonts-wqy-zenhei postgresql redis-server nginx openjdk-17-jre-headless)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: ${packages[*]}"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
