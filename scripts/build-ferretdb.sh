#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy into the given path, once.
# `go install module@version` would be the one-liner, but this workplace's module proxy answers
# 403 to the module's version list (which `go install` reads for deprecation notices), so we
# download the exact version and build its cmd/ferretdb from the module cache instead.
set -euo pipefail
bin="$1"; version="$2"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "${version#v}"; then exit 0; fi
command -v go >/dev/null || { echo "[store] Go is needed to build FerretDB (or set MONGODB_URI)" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
echo "[store] building FerretDB $version (first run only; takes a few minutes)..."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
if GOBIN="$(dirname "$bin")" go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$version" 2>/dev/null; then
  echo "[store] FerretDB installed with go install"; exit 0
fi
echo "[store] go install refused by the module proxy; building from the downloaded module"
dir="$(go mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "[store] could not download FerretDB $version" >&2; exit 1; }
# The module zip ships an empty build/version/version.txt (normally written by `task gen-version`),
# and FerretDB panics at start without it: build from a writable copy with the version filled in.
src="$(mktemp -d)"; trap 'chmod -R u+w "$src"; rm -rf "$src"' EXIT
cp -r "$dir/." "$src/"; chmod -R u+w "$src"
echo "$version" >"$src/build/version/version.txt"
start=$(date +%s)
( cd "$src" && go build -trimpath -o "$bin" ./cmd/ferretdb ) &
pid=$!
while kill -0 $pid 2>/dev/null; do
  sleep 10; kill -0 $pid 2>/dev/null && echo "[store] ...still compiling FerretDB ($(( $(date +%s) - start ))s)"
done
wait $pid
echo "[store] FerretDB built in $(( $(date +%s) - start ))s: $bin"
