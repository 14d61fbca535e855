#!/bin/sh
# Restore a dump made by backup.sh into the database (libpq's PG* environment).
# usage: restore.sh [FILE|latest]   (FILE relative to $BACKUP_DIR, or absolute)
# Without an argument it restores <db>-$RELKIT_BACKUP_NAME.dump: that is how
# `relkit rollback --restore-db` calls it, with the name of the backup taken
# before the migration it undoes. Runs in one transaction: on error the
# database is left as it was.
set -eu

wait="${DB_WAIT:-60}"
until pg_isready -q; do
    wait=$((wait - 1))
    [ "$wait" -gt 0 ] || { echo "$0: database not ready" >&2; exit 1; }
    sleep 1
done

dir="${BACKUP_DIR:-/backups}"
db="${PGDATABASE:?restore: PGDATABASE is not set}"
if [ $# -gt 0 ]; then
    target="$1"
elif [ -n "${RELKIT_BACKUP_NAME:-}" ]; then
    target="$db-$RELKIT_BACKUP_NAME.dump"
else
    echo "usage: restore.sh FILE|latest (or set RELKIT_BACKUP_NAME)" >&2
    exit 2
fi

if [ "$target" = latest ]; then
    target="$(ls -1t "$dir/$db"-*.dump 2>/dev/null | head -n 1)"
    [ -n "$target" ] || { echo "restore: no backups of $db in $dir" >&2; exit 1; }
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
