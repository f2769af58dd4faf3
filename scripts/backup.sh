#!/usr/bin/env bash
# Takes a backup of the hub database with hubctl (no mongodump needed) and checks it.
#   scripts/backup.sh [DIR]          (default: backups/dochub-<UTC time>)
# Needs MONGODB_URI (or the default FerretDB) and an administrator: HUBCTL_USER and
# HUBCTL_PASSWORD_FILE (docs/deployment.md ## Backups). Take it with the api processes out of the
# load balancer for a quiescent copy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/backups/dochub-$(date -u +%Y%m%dT%H%M%SZ)}"
hubctl() { node --disable-warning=ExperimentalWarning "$root/src/cli/hubctl.ts" "$@"; }
hubctl backup create "$dir"
hubctl backup verify "$dir"
echo "backup in $dir (encrypt it and keep it off-site; CREDENTIALS_KEY is backed up separately)"
