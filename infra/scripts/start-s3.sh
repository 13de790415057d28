#!/usr/bin/env bash
# Start an S3-compatible server (s3s-fs) for the tests, if none answers yet.
#
#   port         ${TEST_EXTRANET_S3_PORT:-8014} on 127.0.0.1
#   data         ${TEST_EXTRANET_S3_DIR:-${TMPDIR:-/tmp}/extranet-s3}  (one directory per bucket)
#   buckets      extranet-test (documents), extranet-audit-test (audit checkpoints)
#   credentials  extranet-test / extranet-test-secret  (test-only)
#   log, pid     extranet-s3.log, extranet-s3.pid next to the data directory
#
# Installs s3s-fs with `cargo install` when it is missing (about 3 minutes).
# Idempotent; quiet on success.
set -euo pipefail

readonly S3S_VERSION=0.14.1 # 0.17 needs a newer rustc
readonly PORT="${TEST_EXTRANET_S3_PORT:-8014}"
readonly DATA="${TEST_EXTRANET_S3_DIR:-${TMPDIR:-/tmp}/extranet-s3}"
readonly BUCKET=extranet-test
readonly AUDIT_BUCKET=extranet-audit-test
readonly ACCESS_KEY=extranet-test
readonly SECRET_KEY=extranet-test-secret # test-only credential
readonly INSTALL_PATTERN="cargo install --locked s3s-fs"

die() {
    echo "start-s3: $*" >&2
    exit 1
}

port_answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

find_s3s_fs() {
    local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs"
    if command -v s3s-fs >/dev/null 2>&1; then
        command -v s3s-fs
    elif [[ -x $cargo_bin ]]; then
        echo "$cargo_bin"
    else
        return 1
    fi
}

install_s3s_fs() {
    local i log
    # Another install (e.g. started in the background) already running: wait for it.
    if pgrep -f "$INSTALL_PATTERN" >/dev/null 2>&1; then
        for ((i = 0; i < 1800; i++)); do
            pgrep -f "$INSTALL_PATTERN" >/dev/null 2>&1 || break
            sleep 1
        done
        find_s3s_fs >/dev/null && return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "s3s-fs missing and cargo not found"
    log="${TMPDIR:-/tmp}/extranet-s3s-install.log"
    cargo install --locked "s3s-fs@$S3S_VERSION" --features binary >"$log" 2>&1 ||
        die "cargo install s3s-fs@$S3S_VERSION failed (see $log)"
}

main() {
    # s3s-fs serves each directory as a bucket; made even when a server already runs.
    mkdir -p "$DATA/$BUCKET" "$DATA/$AUDIT_BUCKET" 2>/dev/null ||
        die "cannot create the buckets under $DATA"
    port_answers && return 0

    local bin parent log pidfile help pid i
    bin=$(find_s3s_fs) || { install_s3s_fs && bin=$(find_s3s_fs); } ||
        die "s3s-fs not found after installation"

    # Confirm the flag names of the installed version.
    help=$("$bin" --help 2>&1) || die "'$bin --help' failed"
    for flag in --host --port --access-key --secret-key; do
        [[ $help == *"$flag"* ]] || die "installed s3s-fs has no $flag flag (expected $S3S_VERSION)"
    done

    parent=$(dirname "$DATA")
    log="$parent/extranet-s3.log"
    pidfile="$parent/extranet-s3.pid"

    # setsid + nohup: the server outlives this script and its process group. It runs in its data
    # directory: s3s-fs resolves every object path against its working directory, so a server
    # started from a checkout that is later deleted answers every request with 500.
    (cd "$DATA" && exec setsid nohup "$bin" --host 127.0.0.1 --port "$PORT" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" "$DATA" \
        >"$log" 2>&1 </dev/null) &
    pid=$!
    echo "$pid" >"$pidfile"

    for ((i = 0; i < 80; i++)); do
        port_answers && return 0
        kill -0 "$pid" 2>/dev/null || die "s3s-fs exited at startup (see $log)"
        sleep 0.25
    done
    die "s3s-fs did not answer on 127.0.0.1:$PORT within 20 s (see $log)"
}

main "$@"
