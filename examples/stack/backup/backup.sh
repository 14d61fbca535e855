#!/bin/sh
# Dump the database (libpq's PG* environment) into $BACKUP_DIR as
# <db>-<UTC timestamp>.dump (pg_dump custom format), then keep only the
# newest $BACKUP_KEEP dumps of that database. Prints the new file's path.
set -eu

wait="${DB_WAIT:-60}"
until pg_isready -q; do
    wait=$((wait - 1))
    [ "$wait" -gt 0 ] || { echo "$0: database not ready" >&2; exit 1; }
    sleep 1
done

dir="${BACKUP_DIR:-/backups}"
keep="${BACKUP_KEEP:-7}"
db="${PGDATABASE:?backup: PGDATABASE is not set}"

case "$keep" in
    '' | *[!0-9]* | 0) echo "backup: BACKUP_KEEP must be a positive integer, not '$keep'" >&2; exit 2 ;;
esac

file="$dir/$db-$(date -u +%Y%m%dT%H%M%SZ).dump"
if [ -e "$file" ]; then
    echo "backup: $file already exists; try again in a second" >&2
    exit 1
fi

pg_dump --format=custom --file="$file.partial"
mv "$file.partial" "$file"
echo "$file"

# Timestamps sort lexically, and globs expand sorted: oldest first.
set -- "$dir/$db"-*.dump
excess=$(($# - keep))
while [ "$excess" -gt 0 ]; do
    rm -f -- "$1"
    echo "backup: removed $1 (keeping $keep)" >&2
    shift
    excess=$((excess - 1))
done
