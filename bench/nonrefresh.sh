#!/usr/bin/env bash
# Measures what refresh checking costs a request that needs no refresh: it
# compares a core without refresh checking (BASE, 8b1f217) with HEAD, two
# ways, running the binaries alternately COUNT times so that noise from
# other processes falls on both:
#   core-*.txt  the core's own BenchmarkMiddleware/{bare,cookie_cold}, built
#               from each revision's source;
#   harness-*.txt  bench/nonrefresh's BenchmarkCookieCold, the same code
#               built against each revision (-tags precache for BASE), which
#               also reports CPU time per request and, at HEAD, configures
#               the session's provider so that the refresh check runs.
# HEAD's cookie_cold also passes the verified-credential cache check (the
# cache is off there: Config.CacheBytes = -1). The harness measures CPU time
# with this tree's internal/cputime, copied into a revision's source when the
# revision has none.
#
#   bash bench/nonrefresh.sh            # BASE=8b1f217 HEAD=main COUNT=6
set -euo pipefail
cd "$(dirname "$0")/.."
BASE="${BASE:-8b1f217}"
HEAD="${HEAD:-main}"
COUNT="${COUNT:-6}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
export PATH="$PATH:$(go env GOPATH)/bin"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest
bench=$(pwd)/bench

base=$(git rev-parse --short "$BASE"); head=$(git rev-parse --short "$HEAD")
for name in "$base" "$head"; do
  tags=""; [ "$name" = "$base" ] && tags="precache"
  rm -rf "$OUT/src-$name" "$OUT/bench-$name"; mkdir -p "$OUT/src-$name" "$OUT/bench-$name"
  git archive "$name" | tar -x -C "$OUT/src-$name"
  (cd "$OUT/src-$name" && GOWORK=off go test -c -o "$OUT/core-$name.test" .)
  [ -d "$OUT/src-$name/internal/cputime" ] || { mkdir -p "$OUT/src-$name/internal" && cp -r internal/cputime "$OUT/src-$name/internal/"; }
  cp -r "$bench/go.mod" "$bench/go.sum" "$bench/internal" "$bench/nonrefresh" "$OUT/bench-$name/"
  (cd "$OUT/bench-$name" && go mod edit -replace "github.com/sessionkit/sessionkit=$OUT/src-$name" &&
    GOWORK=off go test -c -tags "$tags" -o "$OUT/harness-$name.test" ./nonrefresh)
done
for f in core harness; do for name in "$base" "$head"; do : > "$OUT/$f-$name.txt"; done; done
for i in $(seq "$COUNT"); do
  echo "run $i/$COUNT" >&2
  for name in "$base" "$head"; do
    (cd "$OUT/src-$name" && "$OUT/core-$name.test" -test.run '^$' -test.bench '^BenchmarkMiddleware$/^(bare|cookie_cold)$' -test.benchmem -test.count 1) >> "$OUT/core-$name.txt"
    "$OUT/harness-$name.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1 >> "$OUT/harness-$name.txt"
  done
done
{
  echo "== core BenchmarkMiddleware: $base (no refresh checking) vs $head"
  (cd "$OUT" && benchstat "core-$base.txt" "core-$head.txt")
  echo; echo "== bench/nonrefresh BenchmarkCookieCold: $base (no refresh checking) vs $head"
  (cd "$OUT" && benchstat "harness-$base.txt" "harness-$head.txt")
} | tee "$OUT/report.txt"
echo "raw results in $OUT" >&2
