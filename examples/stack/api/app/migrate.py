"""Apply numbered SQL migrations (``NNNN_name.sql``) in order, each exactly once.

Applied versions are recorded in ``schema_migrations``; each migration runs in
its own transaction together with its record, and an advisory lock keeps two
migrators from racing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.extensions

from app.database import connect

MIGRATIONS_DIR = Path(os.environ.get("MIGRATIONS_DIR", Path(__file__).parent.parent / "migrations"))
NAME = re.compile(r"^(?P<version>\d+)_(?P<name>[A-Za-z0-9_-]+)\.sql$")
LOCK_ID = 0x72656C6B  # arbitrary, constant: pg_advisory_lock key for migrations
WAIT_SECONDS = float(os.environ.get("MIGRATE_WAIT", "60"))


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def find_migrations(directory: Path) -> list[Migration]:
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = NAME.match(path.name)
        if match is None:
            raise SystemExit(f"migrate: bad migration file name {path.name} (want NNNN_name.sql)")
        version = int(match["version"])
        if version in migrations:
            raise SystemExit(f"migrate: {path.name} repeats version {version}")
        migrations[version] = Migration(version, match["name"], path)
    return [migrations[v] for v in sorted(migrations)]


def connect_when_ready(wait: float) -> psycopg2.extensions.connection:
    """Connect, retrying while the database starts (up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return connect(timeout=5)
        except psycopg2.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise SystemExit(
                    f"migrate: database not reachable after {wait:.0f}s: {exc}"
                ) from exc
            time.sleep(1)


def migrate(directory: Path) -> list[Migration]:
    """Apply pending migrations; return those applied now."""
    migrations = find_migrations(directory)
    applied_now = []
    with contextlib.closing(connect_when_ready(WAIT_SECONDS)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
        conn.autocommit = False
        for migration in migrations:
            if migration.version in done:
                continue
            with conn, conn.cursor() as cur:  # one transaction per migration
                cur.execute(migration.path.read_text())
                cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            applied_now.append(migration)
            print(f"migrate: applied {migration.path.name}", flush=True)
    return applied_now


def main() -> int:
    applied = migrate(MIGRATIONS_DIR)
    if not applied:
        print("migrate: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
