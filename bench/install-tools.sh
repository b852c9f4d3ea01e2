#!/usr/bin/env bash
# Installs what the benchmark needs from Debian's packages when it is missing:
# nginx (the mock upstream) and wrk (the load generator). Never starts a service.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench: installing ${missing[*]} from Debian's packages"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
        echo "bench: ${missing[*]} missing and not root (no sudo): run 'apt-get install -y ${missing[*]}' as root" >&2
        exit 1
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "bench: ${missing[*]} missing and no apt-get here: install them with your package manager" >&2
    exit 1
fi
install() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
if ! install >/dev/null 2>&1; then
    $sudo apt-get update -qq || true
    if ! install; then
        echo "bench: could not install ${missing[*]} with apt-get (see above)" >&2
        exit 1
    fi
fi
