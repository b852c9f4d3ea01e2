#!/usr/bin/env bash
# Installs what the benchmark needs when it is missing: nginx (the mock
# upstream) and wrk (the load generator) from Debian's packages, and the peer
# gateways of bench/peers/ (Portkey's, pinned in its package-lock.json) with
# `npm ci`. Never starts a service. A peer that cannot be installed is only a
# note: bench/run.py says so in its report and carries on.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers() {
    local dir="$here/peers" stamp="$here/peers/node_modules/.package-lock.json"
    if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ]; then return 0; fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "bench: npm not found: Portkey's gateway will not be measured (install Node.js 18+ and npm)" >&2
        return 0
    fi
    echo "bench: installing the peer gateways (npm ci in bench/peers)"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
        echo "bench: npm ci in bench/peers failed: Portkey's gateway will not be measured" >&2
    fi
}
[ "${BENCH_NO_PEERS:-0}" != 0 ] || peers
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
