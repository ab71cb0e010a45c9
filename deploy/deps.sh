#!/usr/bin/env bash
# Installs every build and run dependency of erpsync on Debian 12. Idempotent: when all packages are
# present it only checks and returns (well under a second).
set -euo pipefail
PKGS=(gcc make pkg-config
      librdkafka-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev libpq-dev
      libmicrohttpd-dev libjansson-dev libssl-dev
      postgresql-15 postgresql-client-15
      openjdk-17-jre-headless maven
      kcat curl jq openssl libxml2-utils procps iproute2 docker-compose clang-format python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# A JRE from elsewhere (e.g. a Temurin JDK on PATH) serves the broker as well as Debian's.
if command -v java >/dev/null 2>&1; then
  missing=("${missing[@]/openjdk-17-jre-headless}")
fi
if command -v mvn >/dev/null 2>&1; then
  missing=("${missing[@]/maven}")
fi
read -r -a missing <<<"${missing[*]:-}"
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
