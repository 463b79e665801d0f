#!/usr/bin/env bash
# Runs every fuzz target of the module for $FUZZTIME each (default 60s).
# The seed corpus lives in each package's testdata/fuzz/<Target>/; crashers
# found are written there too and must be fixed and committed.
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-60s}
cd "$(dirname "$0")/.."
status=0
for pkg in $($GO list ./...); do
  dir=$($GO list -f '{{.Dir}}' "$pkg")
  grep -lq '^func Fuzz' "$dir"/*_test.go 2>/dev/null || continue
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //'); do
    echo "== fuzz $pkg $target ($FUZZTIME)"
    if ! $GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
      status=1
    fi
  done
done
exit $status
