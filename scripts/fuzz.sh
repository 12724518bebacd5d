#!/usr/bin/env bash
# Runs every fuzz target of the workspace (every module go.work uses) for FUZZTIME each (default 1m).
# Usage: FUZZTIME=5m bash scripts/fuzz.sh [package ...]
# FUZZMINIMIZETIME (default 5s) bounds the minimization of each new input: at
# Go's default (60s) the targets whose inputs are JSON documents spend most of
# a short run minimizing, with no fuzzing at all.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-1m}"
FUZZMINIMIZETIME="${FUZZMINIMIZETIME:-5s}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=(github.com/sessionkit/sessionkit/...)
for pkg in $(go list "${pkgs[@]}"); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target ($FUZZTIME)"
    for attempt in 1 2; do
      if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMINIMIZETIME" "$pkg" 2>&1 | tee "$log"; then
        break
      fi
      # On a loaded machine the fuzzing coordinator can give up on a slow
      # worker ("context deadline exceeded") without any input failing. A
      # real failure writes its input to testdata/fuzz and is never retried.
      if [ "$attempt" = 1 ] && grep -q "context deadline exceeded" "$log" && ! grep -q "Failing input written" "$log"; then
        echo "-- $target: the fuzzing engine timed out without a failing input; running it again"
        continue
      fi
      exit 1
    done
  done
done
