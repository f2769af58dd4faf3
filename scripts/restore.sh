#!/usr/bin/env bash
# Restores a backup taken by scripts/backup.sh into an EMPTY database, then checks and repairs:
#   scripts/restore.sh DIR
# 1. hubctl backup restore (refuses a database holding documents; the administrator logs in with an
#    account of the restored database: HUBCTL_USER, HUBCTL_PASSWORD_FILE)
# 2. hubctl audit verify: the hash chain is intact up to the restored point
# 3. hubctl deliveries requeue --older-than 0: re-send the tasks of deliveries restored as queued
#    (needs a running worker to publish them: start the hub between steps 2 and 3 if it is stopped)
# 4. hubctl deadletters prune-orphans: dead letters of deliveries the restore removed (dry run;
#    run it again with --apply to delete them)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: scripts/restore.sh DIR}"
hubctl() { node --disable-warning=ExperimentalWarning "$root/src/cli/hubctl.ts" "$@"; }
hubctl backup verify "$dir"
hubctl backup restore "$dir"
hubctl audit verify
hubctl deliveries requeue --older-than 0
hubctl deadletters prune-orphans
