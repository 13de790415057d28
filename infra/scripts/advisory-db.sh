#!/usr/bin/env bash
# Puts the RustSec snapshot (../shared/advisory-db, data only) where cargo-deny looks for its
# advisory database (deny.toml: db-path), as the git checkout cargo-deny expects, so that
# `cargo deny --offline check` works without a network.
set -euo pipefail
cd "$(dirname "$0")/../.."
snapshot=../shared/advisory-db
# cargo-deny names the directory after the default database URL.
target=target/advisory-dbs/advisory-db-3157b0e258782691
if [ ! -d "$snapshot" ]; then
    echo "advisory-db: no snapshot at $snapshot" >&2
    exit 1
fi
rm -rf "$target"
mkdir -p "$target"
cp -r "$snapshot/." "$target/"
cd "$target"
git init -q
git add -A
git -c user.name=snapshot -c user.email=snapshot@localhost commit -q -m "RustSec snapshot"
git rev-parse HEAD >.git/FETCH_HEAD
