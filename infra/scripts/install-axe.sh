#!/usr/bin/env bash
# Install axe-core (the accessibility engine the link-crawl test injects into every page) at one
# exact version from the npm registry, checked against the sha512 integrity pinned below, into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/extranet/axe-core-<version>/axe.min.js
# (TEST_EXTRANET_AXE in infra/scripts/test-env.sh points there). Prints one line with the version.
# Idempotent: when the file is there and the kept tarball still matches, nothing is fetched.
set -euo pipefail

readonly VERSION=4.14.1
# `npm view axe-core@4.14.1 dist.integrity`
readonly INTEGRITY='sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=='
readonly DIR="${TEST_EXTRANET_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/extranet/axe-core-$VERSION}"
readonly TARBALL="$DIR/axe-core-$VERSION.tgz"
readonly TARGET="$DIR/axe.min.js"

die() {
    echo "install-axe: $*" >&2
    exit 1
}

# The npm integrity string of a file: "sha512-" + base64 of the raw SHA-512 digest.
integrity_of() {
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

# The kept tarball matches the pin and axe.min.js is the one inside it: done.
if [[ -f $TARBALL && -f $TARGET && $(integrity_of "$TARBALL") == "$INTEGRITY" ]] &&
    tar -xzOf "$TARBALL" package/axe.min.js | cmp -s - "$TARGET"; then
    echo "axe-core $VERSION"
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch axe-core (apt-get install npm)"
mkdir -p "$DIR"
tmp=$(mktemp -d "$DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# npm pack fetches the exact version's tarball from the registry without installing anything
# (no install scripts run).
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null 2>"$tmp/npm.log") ||
    die "npm pack axe-core@$VERSION failed: $(cat "$tmp/npm.log")"
fetched="$tmp/axe-core-$VERSION.tgz"
[[ -f $fetched ]] || die "npm pack did not leave axe-core-$VERSION.tgz"
got=$(integrity_of "$fetched")
[[ $got == "$INTEGRITY" ]] || die "axe-core-$VERSION.tgz integrity $got, expected $INTEGRITY"
tar -xzOf "$fetched" package/axe.min.js >"$tmp/axe.min.js" ||
    die "no package/axe.min.js in axe-core-$VERSION.tgz"
head -c 200 "$tmp/axe.min.js" | grep -q "axe v$VERSION" ||
    die "package/axe.min.js does not announce axe v$VERSION"
mv -f "$fetched" "$TARBALL"
mv -f "$tmp/axe.min.js" "$TARGET"
echo "axe-core $VERSION"
