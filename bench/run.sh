#!/usr/bin/env bash
# Runs the measurements behind BENCHMARKS.md's goals in one session:
# BenchmarkPeers (this module), the core's BenchmarkMiddleware,
# BenchmarkMiddlewareEvicted (whose sec/op includes its cache eviction and
# means nothing: read its serve-ns/op) and BenchmarkCookieSeal, and redisstore's
# BenchmarkStoreMiddleware (goal 5; its Redis cases run when
# SESSIONKIT_REDIS_URL is set), alternating between the test binaries COUNT
# times so that noise from other processes falls on all. Prints the
# benchstat tables and the goal ratios.
#
#   bash bench/run.sh                  # COUNT=6, results in a temporary folder
#   COUNT=10 BENCHTIME=2s OUT=/tmp/bench bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${COUNT:-6}"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
export PATH="$PATH:$(go env GOPATH)/bin"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest

go test -c -o "$OUT/peers.test" ./bench
go test -c -o "$OUT/core.test" .
go test -c -o "$OUT/store.test" ./redisstore
: > "$OUT/peers.txt"
: > "$OUT/core.txt"
: > "$OUT/store.txt"
for i in $(seq "$COUNT"); do
  echo "run $i/$COUNT" >&2
  (cd bench && "$OUT/peers.test" -test.run '^$' -test.bench . -test.benchmem -test.benchtime "${BENCHTIME:-1s}" -test.count 1) >> "$OUT/peers.txt"
  "$OUT/core.test" -test.run '^$' -test.bench '^(BenchmarkMiddleware|BenchmarkMiddlewareEvicted|BenchmarkCookieSeal)$' -test.benchmem -test.benchtime "${BENCHTIME:-1s}" -test.count 1 >> "$OUT/core.txt"
  (cd redisstore && "$OUT/store.test" -test.run '^$' -test.bench '^BenchmarkStoreMiddleware$' -test.benchmem -test.benchtime "${BENCHTIME:-1s}" -test.count 1) >> "$OUT/store.txt"
done

{
  echo "== machine"; uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo || true; go version; uptime
  echo; echo "== BenchmarkPeers (bench/)"; benchstat "$OUT/peers.txt"
  echo; echo "== core BenchmarkMiddleware, BenchmarkMiddlewareEvicted (serve-ns/op only), BenchmarkCookieSeal"; benchstat "$OUT/core.txt"
  echo; echo "== redisstore BenchmarkStoreMiddleware"; benchstat "$OUT/store.txt"
  echo; echo "== goals (BENCHMARKS.md)"; go run ./bench/cmd/ratios "$OUT/peers.txt" "$OUT/core.txt" "$OUT/store.txt"
} | tee "$OUT/report.txt"
echo "raw results and report in $OUT" >&2
