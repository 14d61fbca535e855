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

# Timestamps sort lexically, so the oldest come last in reverse order.
ls -1 "$dir/$db"-*.dump | sort -r | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f -- "$old"
    echo "backup: removed $old (keeping $keep)" >&2
done
