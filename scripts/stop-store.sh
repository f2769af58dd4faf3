#!/usr/bin/env bash
# Stops the FerretDB started by ensure-store.sh (by PID).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pidfile="${FERRETDB_DATA:-$root/data/ferretdb}/ferretdb.pid"
[ -f "$pidfile" ] || { echo "no FerretDB pid file"; exit 0; }
kill "$(cat "$pidfile")" 2>/dev/null && echo "FerretDB stopped" || echo "FerretDB was not running"
rm -f "$pidfile"
