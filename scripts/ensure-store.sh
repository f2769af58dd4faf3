#!/usr/bin/env bash
# Makes sure a MongoDB-wire-compatible store is reachable for the hub and its tests.
# - MONGODB_URI set: nothing to do (production or a store you run yourself).
# - otherwise: build FerretDB 1.24.2 once into .cache/bin (Go module proxy), then start it
#   on 127.0.0.1 with the embedded SQLite backend, data under data/ferretdb, telemetry off.
# - HUB_STORE_BACKEND=postgresql (an option, not the default; docs/benchmarks.md "FerretDB backends"):
#   the same FerretDB with its PostgreSQL handler, on a PostgreSQL you run yourself
#   (FERRETDB_POSTGRESQL_URL, default postgres://127.0.0.1:5432/ferretdb; the database must exist).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${MONGODB_URI:-}" ]; then exit 0; fi

port="${FERRETDB_PORT:-27017}"
bin="${FERRETDB_BIN:-$root/.cache/bin/ferretdb}"
datadir="${FERRETDB_DATA:-$root/data/ferretdb}"
version="v1.24.2"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The binary is built even when a store already listens: the fault tests start FerretDB processes of their own.
bash "$root/scripts/build-ferretdb.sh" "$bin" "$version"
if port_open "$port"; then exit 0; fi

backend="${HUB_STORE_BACKEND:-sqlite}"
case "$backend" in
  sqlite)
    mkdir -p "$datadir/sqlite" "$datadir/state"
    handler=(--handler=sqlite --sqlite-url="file:$datadir/sqlite/" --state-dir="$datadir/state")
    where="SQLite in $datadir" ;;
  postgresql)
    pgurl="${FERRETDB_POSTGRESQL_URL:-postgres://127.0.0.1:5432/ferretdb}"
    mkdir -p "$datadir/state-postgresql"
    handler=(--handler=postgresql --postgresql-url="$pgurl" --state-dir="$datadir/state-postgresql")
    where="PostgreSQL at $(sed -E 's#//[^@/]*@#//#; s#\?.*##' <<<"$pgurl")" ;;
  *) echo "[store] HUB_STORE_BACKEND must be sqlite (the default) or postgresql, not '$backend'" >&2; exit 1 ;;
esac
echo "[store] starting FerretDB $version on 127.0.0.1:$port ($where)"
nohup "$bin" \
  --listen-addr="127.0.0.1:$port" \
  "${handler[@]}" \
  --telemetry=disable \
  --log-level=warn \
  --debug-addr=- \
  >>"$datadir/ferretdb.log" 2>&1 &
echo $! >"$datadir/ferretdb.pid"
for _ in $(seq 1 100); do
  if port_open "$port"; then echo "[store] FerretDB ready (pid $(cat "$datadir/ferretdb.pid"))"; exit 0; fi
  sleep 0.2
done
echo "[store] FerretDB did not start; see $datadir/ferretdb.log" >&2
tail -20 "$datadir/ferretdb.log" >&2 || true
exit 1
