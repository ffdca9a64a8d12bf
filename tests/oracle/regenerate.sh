#!/usr/bin/env bash
# Build the CloneSet revision oracle (OpenKruise v1.9.0 as the Go module proxy serves it) and regenerate the data the
# Rust code and tests use. `--check` only compares (exit 1 on drift). See README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/target/oracle/revision-oracle"
check=false
[[ "${1:-}" == "--check" ]] && check=true

mkdir -p "$root/target/oracle"
(cd "$root/tests/oracle/revision" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$bin" .)

types="$root/src/controller/go_types.json"
expected="$root/tests/fixtures/revisions/expected.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bin" types > "$tmp/types.json"
"$bin" revisions "$root/tests/fixtures/revisions/corpus.yaml" > "$tmp/expected.json"
if $check; then
  diff -u "$types" "$tmp/types.json" && diff -u "$expected" "$tmp/expected.json"
  echo "oracle data up to date"
else
  cp "$tmp/types.json" "$types"
  cp "$tmp/expected.json" "$expected"
  echo "wrote $types and $expected"
fi
