#!/usr/bin/env bash
# Runs govulncheck (pinned, installed from the Go module proxy) over every
# module of the workspace, against the vulnerability database GOVULNDB names:
#   GOVULNDB=https://vuln.go.dev bash scripts/govulncheck.sh     (needs that host)
#   GOVULNDB=file:///srv/govulndb bash scripts/govulncheck.sh    (an offline copy in
#     vuln.go.dev's layout: index/db.json, index/modules.json, ID/GO-*.json)
# Without GOVULNDB the check is skipped and says so: this project's machines
# and CI reach only the Go module proxy, Debian and npm, and none of them
# serves the Go vulnerability database. A skip is not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.9.0

if [ -z "${GOVULNDB:-}" ]; then
  echo "govulncheck: SKIPPED: no vulnerability database is reachable here (set GOVULNDB to https://vuln.go.dev or to a file:// copy)."
  echo "govulncheck: no known-vulnerability check was run for this build."
  exit 0
fi
case "$GOVULNDB" in
  file://*)
    dir="${GOVULNDB#file://}"
    if [ ! -f "$dir/index/db.json" ]; then
      echo "govulncheck: $GOVULNDB is not a vulnerability database (no index/db.json)" >&2
      exit 1
    fi
    echo "govulncheck: database $GOVULNDB, $(cat "$dir/index/db.json")"
    ;;
esac
bin="$(go env GOPATH)/bin"
GOFLAGS= GOBIN="$bin" go install "golang.org/x/vuln/cmd/govulncheck@$VERSION"
"$bin/govulncheck" -db "$GOVULNDB" github.com/sessionkit/sessionkit/...
