"""Database connections: libpq reads PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2
import psycopg2.extensions


def connect(timeout: int = 3) -> psycopg2.extensions.connection:
    """Connect using the PG* environment (PGPASSWORD_FILE for a secret file)."""
    password_file = os.environ.get("PGPASSWORD_FILE")
    extra = {}
    if password_file:
        extra["password"] = Path(password_file).read_text().strip()
    return psycopg2.connect("", connect_timeout=timeout, **extra)
