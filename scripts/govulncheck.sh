#!/usr/bin/env bash
# Runs govulncheck (pinned, installed from the Go module proxy) over every
# module of the workspace, test code included, against the vulnerability
# database GOVULNDB names:
#   GOVULNDB=https://vuln.go.dev bash scripts/govulncheck.sh     (needs that host)
#   GOVULNDB=file:///srv/govulndb bash scripts/govulncheck.sh    (an offline copy in
#     vuln.go.dev's layout: index/db.json, index/modules.json, ID/GO-*.json)
# .ci/run sets GOVULNDB to the shared offline copy (../shared/vulndb) when
# that folder exists. Without GOVULNDB the check is skipped and says so: a
# skip is not a pass. Any finding fails the script (govulncheck exits 3).
#
# One pattern covers the whole workspace: in go.work mode,
# github.com/sessionkit/sessionkit/... matches the packages of every module
# the workspace uses (root, redisstore, devoidc, e2e, examples/demo, bench),
# each built with the versions the workspace selects.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.10.0

if [ -z "${GOVULNDB:-}" ]; then
  echo "govulncheck: SKIPPED: no vulnerability database given (set GOVULNDB to https://vuln.go.dev or to a file:// copy)."
  echo "govulncheck: no known-vulnerability check was run for this build."
  exit 0
fi
case "$GOVULNDB" in
  file://*)
    dir="${GOVULNDB#file://}"
    case "$dir" in
      /*) ;;
      *) echo "govulncheck: GOVULNDB must be an absolute file:// URL, got $GOVULNDB" >&2; exit 1 ;;
    esac
    if [ ! -f "$dir/index/db.json" ]; then
      echo "govulncheck: $GOVULNDB is not a vulnerability database (no index/db.json)" >&2
      exit 1
    fi
    modified=$(sed -n 's/.*"modified"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/index/db.json")
    echo "govulncheck: database $GOVULNDB, last modified ${modified:-unknown}"
    ;;
  *)
    echo "govulncheck: database $GOVULNDB"
    ;;
esac
bin="$(go env GOPATH)/bin"
GOFLAGS= GOBIN="$bin" go install "golang.org/x/vuln/cmd/govulncheck@$VERSION"
"$bin/govulncheck" -version 2>/dev/null | sed -n 's/^Scanner: /govulncheck: scanner /p' || true
"$bin/govulncheck" -db "$GOVULNDB" -test github.com/sessionkit/sessionkit/...
echo "govulncheck: passed: no known vulnerability reaches the code of any workspace module"
