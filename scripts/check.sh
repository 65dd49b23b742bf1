#!/usr/bin/env bash
# The checks a reviewer runs first: formatting, vet, the race-enabled test
# suite, and the JPEG decoder's corpus comparison (too slow under -race, so
# it runs here without it). Usage: scripts/check.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "check: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "check: gofmt would change:" $unformatted >&2
	exit 1
fi
echo "check: go vet ./..."
go vet ./...
echo "check: go test -race ./..."
go test -race ./...
echo "check: JPEG decoder against image/jpeg on the corpus (no -race)"
go test -count=1 -run 'TestCorpus' ./imaging/internal/jpegscale/
