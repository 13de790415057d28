#!/usr/bin/env bash
# Install nginx from Debian for the documents benchmark (tests/benches/documents.rs), if
# missing. Only the binary is wanted: the package's own service is stopped and disabled, since
# the benchmark runs nginx itself, in the foreground, with a configuration of its own.
# Prints one line with the version.
# Idempotent.
set -euo pipefail

readonly NGINX=/usr/sbin/nginx
readonly LOG="${TMPDIR:-/tmp}/extranet-install-nginx.log"

die() {
    echo "install-nginx: $*" >&2
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

if [[ ! -x $NGINX ]]; then
    wait_for_apt
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$LOG" 2>&1 ||
        die "apt-get update failed (see $LOG)"
    # policy-rc.d-free way of not starting the packaged service: stop it right after.
    as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq nginx >>"$LOG" 2>&1 ||
        die "apt-get install nginx failed (see $LOG)"
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        as_root systemctl disable --now nginx >>"$LOG" 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
        as_root service nginx stop >>"$LOG" 2>&1 || true
    fi
fi

# "nginx version: nginx/1.22.1" (on stderr).
version=$("$NGINX" -v 2>&1 | head -1) || die "$NGINX -v failed"
echo "${version#nginx version: }"
