"""HTTP API: ``/health`` checks the database, ``/version`` reports the build."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

from app.database import connect

VERSION = os.environ.get("APP_VERSION", "0.0.0-dev")
GIT_SHA = os.environ.get("APP_GIT_SHA", "unknown")


def database_status() -> str | None:
    """None when the database answers a query, else what went wrong."""
    try:
        with contextlib.closing(connect(timeout=2)) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except psycopg2.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


class Handler(BaseHTTPRequestHandler):
    server_version = "acme-api"

    def do_GET(self) -> None:
        if self.path == "/health":
            problem = database_status()
            if problem is None:
                self.send_json(HTTPStatus.OK, {"status": "ok", "database": "ok"})
            else:
                body = {"status": "unavailable", "database": problem}
                self.send_json(HTTPStatus.SERVICE_UNAVAILABLE, body)
        elif self.path == "/version":
            self.send_json(HTTPStatus.OK, {"version": VERSION, "git_sha": GIT_SHA})
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def send_json(self, status: HTTPStatus, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # PID 1 in a container ignores SIGTERM unless it handles it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"api {VERSION} ({GIT_SHA}) listening on :{port}", file=sys.stderr, flush=True)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()
