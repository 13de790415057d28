#!/usr/bin/env bash
# An SMTP sink for the tests (aiosmtpd from PyPI), writing every message into a Maildir.
#
#   port     ${TEST_EXTRANET_SMTP_PORT:-2525} on 127.0.0.1
#   maildir  ${TEST_EXTRANET_SMTP_DIR:-${TMPDIR:-/tmp}/extranet-smtp}
#
# Idempotent; quiet on success.
set -euo pipefail

readonly PORT="${TEST_EXTRANET_SMTP_PORT:-2525}"
readonly DIR="${TEST_EXTRANET_SMTP_DIR:-${TMPDIR:-/tmp}/extranet-smtp}"

port_answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

port_answers && exit 0
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m pip install --quiet --root-user-action=ignore 'aiosmtpd>=1.4,<2' || {
        echo "start-smtp: pip install aiosmtpd failed" >&2
        exit 1
    }
fi
mkdir -p "$DIR/tmp" "$DIR/new" "$DIR/cur"  # a Maildir; aiosmtpd does not create these
nohup python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Mailbox "$DIR" \
    >"$DIR.log" 2>&1 &
for _ in $(seq 1 100); do
    port_answers && exit 0
    sleep 0.2
done
echo "start-smtp: the SMTP sink did not start on port $PORT (see $DIR.log)" >&2
exit 1
