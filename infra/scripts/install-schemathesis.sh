#!/usr/bin/env bash
# Schemathesis, the OpenAPI contract tester the end-to-end test `contract` runs against the real
# binary, installed from PyPI into a virtual environment of its own (pinned; nothing else of
# the system's Python is touched).
#
#   venv   ${TEST_EXTRANET_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/extranet/schemathesis-<version>}
#   binary <venv>/bin/schemathesis  (test-env.sh points TEST_EXTRANET_SCHEMATHESIS at it)
#
# Idempotent; quiet on success.
set -euo pipefail

readonly VERSION=4.32.5
readonly VENV="${TEST_EXTRANET_SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/extranet/schemathesis-$VERSION}"

if [[ -x $VENV/bin/schemathesis ]] && "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $VERSION\$"; then
    exit 0
fi
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV" || {
    echo "install-schemathesis: python3 -m venv failed (Debian: apt-get install -y python3-venv)" >&2
    exit 1
}
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" || {
    echo "install-schemathesis: pip install schemathesis==$VERSION failed" >&2
    exit 1
}
"$VENV/bin/schemathesis" --version >/dev/null
