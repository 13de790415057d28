#!/usr/bin/env bash
# The whole test suite, on a fresh machine: starts (installing if needed) PostgreSQL, the
# S3-compatible server and Chromium, then runs every test of the workspace against them.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/test-services.sh
# shellcheck source=infra/scripts/test-env.sh
source infra/scripts/test-env.sh
exec cargo test --workspace "$@"
