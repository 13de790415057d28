#!/usr/bin/env bash
# Install Chromium and chromedriver from Debian for the browser tests, if missing.
# Prints one line with both versions.
# Idempotent.
set -euo pipefail

readonly CHROMIUM=/usr/bin/chromium
readonly CHROMEDRIVER=/usr/bin/chromedriver
readonly LOG="${TMPDIR:-/tmp}/extranet-install-chromium.log"

die() {
    echo "install-chromium: $*" >&2
    exit 1
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n -- "$@"
    else
        die "root needed to run '$1' (no sudo available)"
    fi
}

# Wait (bounded) until no apt-get/dpkg is running: two at once break each other.
wait_for_apt() {
    local i
    for ((i = 0; i < 300; i++)); do
        pgrep -x apt-get >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1 ||
            pgrep -x dpkg >/dev/null 2>&1 || return 0
        sleep 1
    done
    die "another apt-get/dpkg is still running after 300 s"
}

if [[ ! -x $CHROMIUM || ! -x $CHROMEDRIVER ]]; then
    wait_for_apt
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$LOG" 2>&1 ||
        die "apt-get update failed (see $LOG)"
    as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium chromium-driver >>"$LOG" 2>&1 ||
        die "apt-get install chromium chromium-driver failed (see $LOG)"
fi

chromium_version=$("$CHROMIUM" --version 2>/dev/null | head -1) ||
    die "$CHROMIUM --version failed"
driver_version=$("$CHROMEDRIVER" --version 2>/dev/null | head -1) ||
    die "$CHROMEDRIVER --version failed"
# "ChromeDriver 131.0.6778.85 (hash-refs/...)" -> keep name and version only.
echo "${chromium_version}; ${driver_version%% (*}"
