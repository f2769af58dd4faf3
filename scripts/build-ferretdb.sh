#!/usr/bin/env bash
# Builds FerretDB from the Go module proxy into the given path, once.
# `go install module@version` would be the one-liner, but this workplace's module proxy answers
# 403 to the module's version list (which `go install` reads for deprecation notices), so we
# download the exact version and build its cmd/ferretdb from the module cache instead.
set -euo pipefail
bin="$(realpath -m "$1")"; version="$2" # absolute: the build runs in another directory
# The source changes we apply: scripts/ferretdb-patches/*.patch (each file says what and why). A binary
# built without exactly these patches is rebuilt.
patches_dir="$(cd "$(dirname "$0")" && pwd)/ferretdb-patches"
patch_id="$(cat "$patches_dir"/*.patch | sha256sum | cut -c1-16)"
# (--version is read whole first: `bin --version | grep -q` under pipefail fails whenever grep exits
# before the binary has written everything, SIGPIPE, and the binary was rebuilt for nothing.)
if [ -x "$bin" ] && grep -q "${version#v}" <<<"$("$bin" --version 2>/dev/null || true)" \
  && [ "$(cat "$bin.patch" 2>/dev/null)" = "$patch_id" ]; then exit 0; fi
command -v go >/dev/null || { echo "[store] Go is needed to build FerretDB (or set MONGODB_URI)" >&2; exit 1; }
mkdir -p "$(dirname "$bin")"
echo "[store] building FerretDB $version (first run only; takes a few minutes)..."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
# `go install` would build the unmodified module; we build from the module source instead, both
# because this workplace's proxy refuses `go install` and to apply our patches (below).
dir="$(go mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -n "$dir" ] || { echo "[store] could not download FerretDB $version" >&2; exit 1; }
# The module zip ships an empty build/version/version.txt (normally written by `task gen-version`),
# and FerretDB panics at start without it: build from a writable copy with the version filled in.
src="$(mktemp -d)"; trap 'chmod -R u+w "$src"; rm -rf "$src"' EXIT
cp -r "$dir/." "$src/"; chmod -R u+w "$src"
echo "$version" >"$src/build/version/version.txt"
# (`git apply` works outside a repository too: it patches the files under the current directory.)
for p in "$patches_dir"/*.patch; do
  ( cd "$src" && git apply -p1 "$p" ) || { echo "[store] could not apply $(basename "$p")" >&2; exit 1; }
done
start=$(date +%s)
( cd "$src" && go build -trimpath -o "$bin" ./cmd/ferretdb ) &
pid=$!
while kill -0 $pid 2>/dev/null; do
  sleep 10; kill -0 $pid 2>/dev/null && echo "[store] ...still compiling FerretDB ($(( $(date +%s) - start ))s)"
done
wait $pid
echo "$patch_id" >"$bin.patch"
echo "[store] FerretDB built in $(( $(date +%s) - start ))s: $bin"
