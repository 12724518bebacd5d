#!/usr/bin/env bash
# Runs every fuzz target of the workspace (every module go.work uses) for FUZZTIME each (default 1m).
# Usage: FUZZTIME=5m bash scripts/fuzz.sh [package ...]
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-1m}"
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=(github.com/sessionkit/sessionkit/...)
for pkg in $(go list "${pkgs[@]}"); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target ($FUZZTIME)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"
  done
done
