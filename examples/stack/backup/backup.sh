#!/bin/sh
# Dump the database (libpq's PG* environment) into $BACKUP_DIR (pg_dump custom
# format), then keep only the newest $BACKUP_KEEP dumps of that database.
# Prints the new file's path.
#
# File name: <db>-<UTC timestamp>.dump, or <db>-$RELKIT_BACKUP_NAME.dump when
# relkit runs this job before a deploy (it sets RELKIT_BACKUP_NAME=relkit-<record
# id> and records the name, so that `relkit rollback --restore-db` finds it).
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
name="${RELKIT_BACKUP_NAME:-}"

case "$keep" in
    '' | *[!0-9]* | 0) echo "backup: BACKUP_KEEP must be a positive integer, not '$keep'" >&2; exit 2 ;;
esac
case "$name" in
    */* | .*) echo "backup: RELKIT_BACKUP_NAME must be a plain file name, not '$name'" >&2; exit 2 ;;
esac

if [ -n "$name" ]; then
    file="$dir/$db-$name.dump"
else
    file="$dir/$db-$(date -u +%Y%m%dT%H%M%SZ).dump"
fi
if [ -e "$file" ]; then
    echo "backup: $file already exists; try again in a second" >&2
    exit 1
fi

pg_dump --format=custom --file="$file.partial"
mv "$file.partial" "$file"
echo "$file"

# Newest first by modification time (the two naming schemes do not sort
# together by name); the names never hold white space, so ls is safe here.
ls -1t "$dir/$db"-*.dump | tail -n +"$((keep + 1))" | while read -r old; do
    rm -f -- "$old"
    echo "backup: removed $old (keeping $keep)" >&2
done
