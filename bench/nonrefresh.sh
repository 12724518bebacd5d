#!/usr/bin/env bash
# Issue #3 asks what refresh checking costs a request that needs no refresh.
# This builds the core's test binary at BASE (the core as landed, before
# refresh) and at HEAD, runs BenchmarkMiddleware/{bare,cookie_cold} of each
# alternately COUNT times, and compares them with benchstat. HEAD's
# cookie_cold also passes the verified-credential cache check (the cache is
# off there: Config.CacheBytes = -1).
#
#   bash bench/nonrefresh.sh            # BASE=8b1f217 HEAD=HEAD COUNT=6
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-8b1f217}"
HEAD="${HEAD:-HEAD}"
COUNT="${COUNT:-6}"
OUT="${OUT:-$(mktemp -d)}"
export PATH="$PATH:$(go env GOPATH)/bin"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest

for rev in "$BASE" "$HEAD"; do
  name=$(git rev-parse --short "$rev")
  rm -rf "$OUT/src-$name"; mkdir -p "$OUT/src-$name"
  git archive "$rev" | tar -x -C "$OUT/src-$name"
  (cd "$OUT/src-$name" && GOWORK=off go test -c -o "$OUT/$name.test" .)
done
base=$(git rev-parse --short "$BASE"); head=$(git rev-parse --short "$HEAD")
: > "$OUT/$base.txt"; : > "$OUT/$head.txt"
for i in $(seq "$COUNT"); do
  echo "run $i/$COUNT" >&2
  for name in "$base" "$head"; do
    (cd "$OUT/src-$name" && "$OUT/$name.test" -test.run '^$' -test.bench '^BenchmarkMiddleware$/^(bare|cookie_cold)$' -test.benchmem -test.count 1) >> "$OUT/$name.txt"
  done
done
(cd "$OUT" && benchstat "$base.txt" "$head.txt") | tee "$OUT/report.txt"
echo "raw results in $OUT" >&2
