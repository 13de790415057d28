#!/usr/bin/env bash
# Bring up everything the integration and browser tests need on this machine:
# PostgreSQL (+ test role), an S3-compatible server, an SMTP sink, Chromium + chromedriver,
# axe-core (pinned, for the link-crawl test) and schemathesis (the API contract tester).
# Then `source infra/scripts/test-env.sh` to get the TEST_EXTRANET_* variables.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

"$script_dir/ensure-postgres.sh"
"$script_dir/start-s3.sh"
"$script_dir/start-smtp.sh"
"$script_dir/install-chromium.sh"
"$script_dir/install-axe.sh"
"$script_dir/install-schemathesis.sh"
