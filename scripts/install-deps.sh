#!/bin/sh
# Installs what govchain needs to build and test on Debian 12, and nothing when all of
# it is already there (so it is safe to run before every build). Runs apt-get as root,
# through sudo when not root.
set -eu

packages="
  build-essential cmake pkgconf git ca-certificates
  libssl-dev openssl libleveldb-dev libsnappy-dev libuv1-dev libmsgpack-dev libjansson-dev
  libinih-dev libcmocka-dev node-llhttp curl
  clang libclang-rt-14-dev
  chromium
"
# Node.js runs the browser tests (and npm installs their one package, playwright-core).
# A machine may have it from elsewhere (nodesource); Debian's is installed only when
# there is none, so as not to replace a newer one.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages="$packages nodejs npm"
fi

missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1; then
    run="sudo"
else
    echo "install-deps: these Debian packages are missing:$missing" >&2
    echo "install-deps: run as root (or install sudo) so they can be installed" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq
# shellcheck disable=SC2086 # the list is meant to split into words
$run apt-get install -y -qq --no-install-recommends $missing
