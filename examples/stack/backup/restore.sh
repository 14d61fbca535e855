#!/bin/sh
# Restore a dump made by backup.sh into the database (libpq's PG* environment).
# usage: restore.sh FILE|latest   (FILE relative to $BACKUP_DIR, or absolute)
# Used by `relkit rollback --restore-db`. Runs in one transaction: on error
# the database is left as it was.
set -eu

wait="${DB_WAIT:-60}"
until pg_isready -q; do
    wait=$((wait - 1))
    [ "$wait" -gt 0 ] || { echo "$0: database not ready" >&2; exit 1; }
    sleep 1
done

dir="${BACKUP_DIR:-/backups}"
db="${PGDATABASE:?restore: PGDATABASE is not set}"
target="${1:?usage: restore.sh FILE|latest}"

if [ "$target" = latest ]; then
    latest=""
    for dump in "$dir/$db"-*.dump; do  # globs expand sorted: newest last
        [ -f "$dump" ] && latest="$dump"
    done
    [ -n "$latest" ] || { echo "restore: no backups of $db in $dir" >&2; exit 1; }
    target="$latest"
fi
case "$target" in
    /*) ;;
    *) target="$dir/$target" ;;
esac
[ -f "$target" ] || { echo "restore: no such backup: $target" >&2; exit 1; }

echo "restore: restoring $target into $db" >&2
pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
    --dbname="$db" "$target"
echo "restore: done" >&2
