#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 and that the test role
# `extranet_test` (password `extranet_test`, CREATEDB) exists.
#
# The tests use postgres://extranet_test:extranet_test@127.0.0.1:5432/postgres as an
# admin URL and create a fresh database per test.
#
# Installs PostgreSQL from Debian and starts the newest cluster when nothing answers.
# Needs root (or passwordless sudo) for that and for creating the role through the
# local socket (peer authentication as the `postgres` OS user).
# Idempotent; quiet on success.
set -euo pipefail

readonly PG_HOST=127.0.0.1
readonly PG_PORT=5432
readonly ROLE=extranet_test
readonly ROLE_PASSWORD=extranet_test # test-only credential, never used outside tests
readonly LOG="${TMPDIR:-/tmp}/extranet-ensure-postgres.log"

die() {
    echo "ensure-postgres: $*" >&2
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

as_postgres() {
    # cd / so that psql does not warn about an unreadable working directory.
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -n -u postgres -- "$@")
    fi
}

pg_up() {
    command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
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

install_postgres() {
    wait_for_apt
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq >>"$LOG" 2>&1 ||
        die "apt-get update failed (see $LOG)"
    as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql >>"$LOG" 2>&1 ||
        die "apt-get install postgresql failed (see $LOG)"
}

start_cluster() {
    local version out
    [[ -d /etc/postgresql ]] || die "no /etc/postgresql after installation"
    version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
    [[ -n $version ]] || die "no PostgreSQL cluster found in /etc/postgresql"
    if ! out=$(as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1); then
        # Racing with another starter is fine; anything else is an error.
        [[ $out == *"already running"* ]] ||
            die "pg_ctlcluster $version main start failed: ${out//$'\n'/ }"
    fi
}

wait_ready() {
    local i
    for ((i = 0; i < 60; i++)); do
        pg_up && return 0
        sleep 0.5
    done
    die "PostgreSQL did not answer on $PG_HOST:$PG_PORT within 30 s"
}

ensure_role() {
    local out
    # Role name and password are fixed test values (no user input in the SQL).
    if ! out=$(as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres 2>&1 <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD';
    ELSE
        ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD';
    END IF;
END
\$\$;
SQL
    ); then
        die "could not create/alter role $ROLE as the postgres user: ${out//$'\n'/ }"
    fi
}

check_login() {
    local out
    if ! out=$(PGPASSWORD=$ROLE_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -A -t \
        -h "$PG_HOST" -p "$PG_PORT" -U "$ROLE" -d postgres -c 'select 1' 2>&1) ||
        [[ $out != 1 ]]; then
        die "password login as $ROLE on $PG_HOST:$PG_PORT failed: ${out//$'\n'/ }"
    fi
}

main() {
    if ! pg_up; then
        command -v pg_ctlcluster >/dev/null 2>&1 || install_postgres
        start_cluster
        wait_ready
    fi
    ensure_role
    check_login
}

main "$@"
