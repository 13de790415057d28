#!/usr/bin/env bash
# Environment for the tests, matching what infra/scripts/test-services.sh starts.
#
#   source infra/scripts/test-env.sh      # exports the variables into this shell
#   eval "$(infra/scripts/test-env.sh)"   # same, when executed it prints `export` lines
#
# Variables that are already set are left alone.
#
# No `set -euo pipefail` here on purpose: this file is meant to be sourced, and those
# options would change the behaviour of the calling shell.

: "${TEST_EXTRANET_PG_URL:=postgres://extranet_test:extranet_test@127.0.0.1:5432/postgres}"
: "${TEST_EXTRANET_S3_ENDPOINT:=http://127.0.0.1:${TEST_EXTRANET_S3_PORT:-8014}}"
: "${TEST_EXTRANET_S3_BUCKET:=extranet-test}"
: "${TEST_EXTRANET_S3_AUDIT_BUCKET:=extranet-audit-test}"
: "${TEST_EXTRANET_S3_ACCESS_KEY:=extranet-test}"
: "${TEST_EXTRANET_S3_SECRET_KEY:=extranet-test-secret}"
: "${TEST_EXTRANET_SMTP_PORT:=2525}"
: "${TEST_EXTRANET_SMTP_DIR:=${TMPDIR:-/tmp}/extranet-smtp}"
: "${TEST_EXTRANET_CHROMEDRIVER:=/usr/bin/chromedriver}"
: "${TEST_EXTRANET_CHROMIUM:=/usr/bin/chromium}"
# axe-core's axe.min.js, pinned and checked by infra/scripts/install-axe.sh (the link-crawl test).
: "${TEST_EXTRANET_AXE:=${XDG_CACHE_HOME:-$HOME/.cache}/extranet/axe-core-4.14.1/axe.min.js}"
: "${TEST_EXTRANET_SCHEMATHESIS:=${TEST_EXTRANET_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/extranet/schemathesis-4.32.5}/bin/schemathesis}"

export TEST_EXTRANET_PG_URL TEST_EXTRANET_S3_ENDPOINT TEST_EXTRANET_S3_BUCKET TEST_EXTRANET_S3_AUDIT_BUCKET \
    TEST_EXTRANET_S3_ACCESS_KEY TEST_EXTRANET_S3_SECRET_KEY \
    TEST_EXTRANET_SMTP_PORT TEST_EXTRANET_SMTP_DIR TEST_EXTRANET_CHROMEDRIVER TEST_EXTRANET_CHROMIUM \
    TEST_EXTRANET_AXE TEST_EXTRANET_SCHEMATHESIS

# Executed rather than sourced: print the exports for `eval`.
if [ -n "${BASH_VERSION:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
    for _extranet_var in TEST_EXTRANET_PG_URL TEST_EXTRANET_S3_ENDPOINT TEST_EXTRANET_S3_BUCKET TEST_EXTRANET_S3_AUDIT_BUCKET \
        TEST_EXTRANET_S3_ACCESS_KEY TEST_EXTRANET_S3_SECRET_KEY \
        TEST_EXTRANET_SMTP_PORT TEST_EXTRANET_SMTP_DIR TEST_EXTRANET_CHROMEDRIVER TEST_EXTRANET_CHROMIUM \
        TEST_EXTRANET_AXE TEST_EXTRANET_SCHEMATHESIS; do
        printf 'export %s=%q\n' "$_extranet_var" "${!_extranet_var}"
    done
    unset _extranet_var
fi
