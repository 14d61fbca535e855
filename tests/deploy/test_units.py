"""Fast tests without Docker: health verdicts, smoke checks, records, overrides, locks, notify."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from relkit.config import Config, ImageConfig, SmokeCheck
from relkit.deploy import records as rec
from relkit.deploy.compose import StepFailed, override_text
from relkit.deploy.health import verdict, wait_healthy
from relkit.deploy.notify import post_all
from relkit.deploy.pipeline import Release, pins_for
from relkit.deploy.records import ReleaseRecord, mask_url
from relkit.deploy.smoke import check_once, run_smoke
from relkit.docker.containers import ContainerState
from relkit.docker.lease import LockInfo, LockStore, take
from relkit.errors import LockHeld

# -- health.verdict ---------------------------------------------------------------


def state(
    service: str = "web",
    status: str = "running",
    health: str | None = "healthy",
    *,
    restarts: int = 0,
    exit_code: int = 0,
    output: str = "",
    name: str = "",
) -> ContainerState:
    return ContainerState(
        service=service,
        name=name or f"p_{service}_1",
        status=status,
        health=health,
        restarts=restarts,
        exit_code=exit_code,
        image_ref="img@sha256:aa",
        image_id="sha256:bb",
        repo_digests=("img@sha256:aa",),
        last_health_output=output,
    )


@pytest.mark.parametrize(
    ("states", "services", "expected"),
    [
        ([state()], ["web"], (True, [])),
        ([state(health=None)], ["web"], (True, [])),  # no healthcheck: running is enough
        ([state(health="starting")], ["web"], (False, ["web: health starting"])),
        ([state(status="created", health=None)], ["web"], (False, ["web: created"])),
        ([], ["web"], (False, ["web: no container yet"])),
        (
            [state(), state("db", health="starting")],
            ["web", "db", "cache"],
            (False, ["db: health starting", "cache: no container yet"]),
        ),
        ([state("other", status="exited")], ["web"], (False, ["web: no container yet"])),
        ([state(), state("backup", status="exited", exit_code=1)], ["web"], (True, [])),
    ],
)
def test_verdict_waits_for(
    states: list[ContainerState], services: list[str], expected: tuple[bool, list[str]]
) -> None:
    assert verdict(states, services) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (state(status="exited", health=None, exit_code=137), "web (p_web_1) exited with code 137"),
        (state(status="dead", health=None, exit_code=1), "web (p_web_1) dead with code 1"),
        (
            state(health="unhealthy", output="wget: server returned error: 404"),
            "web (p_web_1) is unhealthy: wget: server returned error: 404",
        ),
        (state(health="unhealthy"), "web (p_web_1) is unhealthy"),
        (state(status="restarting", health=None), "web (p_web_1) is restarting (crash loop)"),
    ],
)
def test_verdict_fails_at_once_on(bad: ContainerState, message: str) -> None:
    with pytest.raises(StepFailed) as caught:
        verdict([state("db"), bad], ["db", "web"])
    assert str(caught.value) == message


def test_wait_healthy_returns_after_the_settle_period() -> None:
    snapshots = iter([[state(health="starting")], [state(health="starting")]])
    calls: list[list[str]] = []

    def snapshot() -> list[ContainerState]:
        return next(snapshots, [state()])

    start = time.monotonic()
    wait_healthy(snapshot, ["web"], timeout=5, settle=0.2, interval=0.01, on_wait=calls.append)
    assert time.monotonic() - start >= 0.2
    assert calls == [["web: health starting"]]  # reported once, not on every poll


def test_wait_healthy_fails_when_a_container_restarts_while_settling() -> None:
    snapshots = iter([[state(restarts=0)], [state(restarts=1)]])
    with pytest.raises(StepFailed, match=r"^web \(p_web_1\) restarted while settling$"):
        wait_healthy(lambda: next(snapshots), ["web"], timeout=5, settle=1, interval=0.01)


def test_wait_healthy_times_out_naming_what_it_waits_for() -> None:
    with pytest.raises(StepFailed) as caught:
        wait_healthy(
            lambda: [state(health="starting")], ["web"], timeout=0.1, settle=0, interval=0.01
        )
    assert str(caught.value) == "not healthy within 0.1s: web: health starting"


# -- smoke checks against a real local HTTP server ---------------------------------


class SmokeServer:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                status, body = server.answer(self.path, server.hits[self.path])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def answer(path: str, hit: int) -> tuple[int, bytes]:
        doc = {"version": "1.2.0", "build": {"sha": "abc", "dirty": False}}
        if path == "/version":
            return 200, json.dumps(doc).encode()
        if path == "/broken":
            return 500, b'{"error": "db down"}'
        if path == "/text":
            return 200, b"hello relkit"
        if path == "/list":
            return 200, b"[1, 2]"
        if path == "/flaky":  # the third request succeeds
            return (200, json.dumps(doc).encode()) if hit >= 3 else (503, b"")
        return 404, b""

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"


@pytest.fixture(scope="module")
def smoke_server() -> Iterator[SmokeServer]:
    server = SmokeServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("path", "options", "problem"),
    [
        ("/version", {}, None),
        ("/version", {"json": {"version": "{version}"}}, None),
        ("/version", {"json": {"build": {"sha": "abc"}}}, None),
        ("/version", {"json": {"build": {"dirty": False}, "version": "1.2.0"}}, None),
        ("/version", {"contains": '"sha": "abc"'}, None),
        ("/broken", {"status": 500}, None),
        ("/broken", {}, "HTTP 500, expected 200"),
        ("/missing", {}, "HTTP 404, expected 200"),
        ("/version", {"json": {"version": "9.9.9"}}, "version is '1.2.0', expected '9.9.9'"),
        ("/version", {"json": {"name": "api"}}, "name is missing"),
        ("/version", {"json": {"build": {"sha": "def"}}}, "build.sha is 'abc', expected 'def'"),
        ("/version", {"json": {"version": {"major": 1}}}, "version is not a JSON object"),
        ("/text", {"json": {"version": "1.2.0"}}, "body is not JSON"),
        ("/list", {"json": {"version": "1.2.0"}}, "body is not a JSON object"),
        ("/text", {"contains": "goodbye"}, "body does not contain 'goodbye'"),
    ],
)
def test_check_once(
    smoke_server: SmokeServer, path: str, options: dict[str, Any], problem: str | None
) -> None:
    url = smoke_server.url(path)
    result = check_once(SmokeCheck(url=url, **options), "1.2.0")
    assert result == (None if problem is None else f"{url}: {problem}")


def test_check_once_substitutes_the_version_in_the_url(smoke_server: SmokeServer) -> None:
    check = SmokeCheck(url=smoke_server.url("/{version}"))
    assert check_once(check, "version") is None
    assert check_once(check, "1.0") == f"{smoke_server.url('/1.0')}: HTTP 404, expected 200"


def test_check_once_reports_a_refused_connection() -> None:
    url = f"http://127.0.0.1:{closed_port()}/health"
    problem = check_once(SmokeCheck(url=url, timeout=1), "1.0.0")
    assert problem is not None and problem.startswith(f"{url}: ")
    assert "refused" in problem.lower()


def test_run_smoke_retries_with_backoff_until_it_passes(smoke_server: SmokeServer) -> None:
    sleeps: list[float] = []
    retries: list[str] = []
    check = SmokeCheck(url=smoke_server.url("/flaky"), json={"version": "{version}"}, retries=5)

    run_smoke((check,), "1.2.0", on_retry=retries.append, sleep=sleeps.append)

    assert smoke_server.hits["/flaky"] == 3
    assert sleeps == [0.25, 0.5]
    assert retries == [
        f"{smoke_server.url('/flaky')}: HTTP 503, expected 200 (attempt 1/5)",
        f"{smoke_server.url('/flaky')}: HTTP 503, expected 200 (attempt 2/5)",
    ]


def test_run_smoke_fails_after_the_last_attempt(smoke_server: SmokeServer) -> None:
    sleeps: list[float] = []
    checks = (
        SmokeCheck(url=smoke_server.url("/version")),
        SmokeCheck(url=smoke_server.url("/broken"), retries=6),
    )
    with pytest.raises(StepFailed) as caught:
        run_smoke(checks, "1.2.0", sleep=sleeps.append)
    assert str(caught.value) == (
        f"smoke test failed: {smoke_server.url('/broken')}: HTTP 500, expected 200"
    )
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0]  # backoff doubles, capped at 4 s


def test_run_smoke_with_zero_retries_still_tries_once(smoke_server: SmokeServer) -> None:
    before = smoke_server.hits.get("/version", 0)
    run_smoke((SmokeCheck(url=smoke_server.url("/version"), retries=0),), "1.2.0")
    assert smoke_server.hits["/version"] == before + 1


# -- records ------------------------------------------------------------------------


def record(
    version: str, started: str, outcome: str = rec.SUCCEEDED, kind: str = rec.DEPLOY
) -> ReleaseRecord:
    started_at = f"2026-01-01T00:00:{started}.000+00:00"
    return ReleaseRecord(
        id=rec.new_id(started_at, version),
        environment="staging",
        namespace="p",
        kind=kind,
        version=version,
        images={"img": f"img@sha256:{version}"},
        git_sha=None,
        who="me",
        started_at=started_at,
        outcome=outcome,
    )


A = record("1.0.0", "01")
B = record("1.1.0", "02")
C_FAILED = record("1.2.0", "03", rec.ROLLED_BACK)
C_BACK = record("1.1.0", "04", kind=rec.ROLLBACK)
D = record("1.3.0", "05")
E_RUNNING = record("1.4.0", "06", rec.IN_PROGRESS)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], None),
        ([A], A),
        ([B, A], B),  # order of input does not matter
        ([A, B, C_FAILED], B),
        ([A, B, C_FAILED, C_BACK], C_BACK),
        ([A, B, C_FAILED, C_BACK, D, E_RUNNING], D),
        ([record("2.0.0", "01", rec.FAILED)], None),
    ],
)
def test_current_is_the_newest_good_release(
    records: list[ReleaseRecord], expected: ReleaseRecord | None
) -> None:
    assert rec.current(records) == expected


@pytest.mark.parametrize(
    ("records", "before", "expected"),
    [
        ([A], A, None),
        ([A, B], B, A),
        ([A, B, C_FAILED, C_BACK], C_BACK, A),  # same version as C_BACK (B) is skipped
        ([A, B, C_FAILED, C_BACK, D], D, C_BACK),
        ([A, record("1.0.0", "02"), record("1.1.0", "03")], B, A),  # B started at 02
        (
            [A, record("1.0.0", "02"), record("1.1.0", "03")],
            record("1.1.0", "03"),
            record("1.0.0", "02"),
        ),
        ([A, B, D], B, A),  # only older releases
    ],
)
def test_previous_good(
    records: list[ReleaseRecord], before: ReleaseRecord, expected: ReleaseRecord | None
) -> None:
    assert rec.previous_good(records, before) == expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.0.0", A), ("1.1.0", C_BACK), ("1.2.0", None), ("1.4.0", None), ("9.9.9", None)],
)
def test_find_version_finds_the_newest_good_release_of_a_version(
    version: str, expected: ReleaseRecord | None
) -> None:
    records = [A, B, C_FAILED, C_BACK, D, E_RUNNING]
    assert rec.find_version(records, version) == expected


def test_records_round_trip_and_ignore_unknown_keys() -> None:
    data = {**D.as_dict(), "added_by_a_newer_relkit": 1}
    assert ReleaseRecord.from_dict(data) == D
    assert json.loads(json.dumps(D.as_dict())) == D.as_dict()
    older = {k: v for k, v in D.as_dict().items() if k != "reports"}  # before `reports`
    assert ReleaseRecord.from_dict(older).reports == []


def test_new_id_sorts_by_time_and_is_file_safe() -> None:
    assert rec.new_id("2026-01-02T03:04:05.678+00:00", "1.0.0+build/7") == (
        "20260102030405678-1.0.0_build_7"
    )


# -- compose override and pins ---------------------------------------------------------


def test_override_text_pins_each_service_sorted() -> None:
    pins = {"worker": "r/api@sha256:1", "api": "r/api@sha256:1", "web": "r/web@sha256:2"}
    assert override_text(pins, "3.8") == (
        "# written by relkit: pins each service's image by digest\n"
        'version: "3.8"\n'
        "services:\n"
        "  api:\n"
        '    image: "r/api@sha256:1"\n'
        "  web:\n"
        '    image: "r/web@sha256:2"\n'
        "  worker:\n"
        '    image: "r/api@sha256:1"\n'
    )


def test_override_text_without_a_version_line() -> None:
    assert override_text({"web": "w@sha256:3"}, None) == (
        "# written by relkit: pins each service's image by digest\n"
        "services:\n"
        "  web:\n"
        '    image: "w@sha256:3"\n'
    )


def test_override_text_is_valid_yaml_with_the_pins() -> None:
    import yaml

    pins = {"web": "127.0.0.1:5000/a/web@sha256:" + "f" * 64}
    assert yaml.safe_load(override_text(pins, "3.8")) == {
        "version": "3.8",
        "services": {"web": {"image": pins["web"]}},
    }


def test_pins_for_maps_each_images_services_and_skips_unknown_images(tmp_path: Any) -> None:
    config = Config(
        root=tmp_path,
        images=(
            ImageConfig(name="r/api", services=("api", "migrate")),
            ImageConfig(name="r/web", services=("web",)),
            ImageConfig(name="r/docs", services=("docs",)),
        ),
    )
    release = Release("1.0.0", {"r/api": "r/api@sha256:1", "r/web": "r/web@sha256:2"})
    assert pins_for(config, release) == {
        "api": "r/api@sha256:1",
        "migrate": "r/api@sha256:1",
        "web": "r/web@sha256:2",
    }


# -- lock staleness ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


NOW = 1_800_000_000.0
SINCE = "2027-01-15T08:00:00+00:00"  # = NOW
HERE = socket.gethostname()


def lock_info(**changes: Any) -> LockInfo:
    values: dict[str, Any] = {
        "namespace": "p",
        "token": "t",
        "owner": "ci",
        "host": HERE,
        "pid": 1,
        "since": SINCE,
        "purpose": "deploy 1.0.0",
        "lease": 60.0,
        "heartbeat": NOW,
    }
    values.update(changes)
    return LockInfo(**values)


def test_lock_info_since_matches_the_clock_of_these_tests() -> None:
    assert lock_info().age(NOW) == 0


def test_stale_reason_alive_holder_with_fresh_heartbeat() -> None:
    import os

    assert lock_info(pid=os.getpid()).stale_reason(NOW + 30) is None


def test_stale_reason_dead_holder_on_this_host(dead_pid: int) -> None:
    assert lock_info(pid=dead_pid).stale_reason(NOW + 1) == (
        f"its holder (pid {dead_pid} on {HERE}) is no longer running"
    )


def test_stale_reason_on_another_host_only_the_lease_counts(dead_pid: int) -> None:
    other = lock_info(host="elsewhere", pid=dead_pid)
    assert other.stale_reason(NOW + 59) is None
    assert other.stale_reason(NOW + 61) == "no heartbeat for 61s (lease 60s)"


def test_stale_reason_without_heartbeat_counts_from_since() -> None:
    info = lock_info(host="elsewhere", heartbeat=None)
    assert info.stale_reason(NOW + 10) is None
    assert info.stale_reason(NOW + 90) == "no heartbeat for 90s (lease 60s)"


def test_stale_reason_a_later_heartbeat_renews_the_lease() -> None:
    info = lock_info(host="elsewhere", heartbeat=NOW + 100)
    assert info.stale_reason(NOW + 150) is None


def test_a_manual_lock_is_never_stale(dead_pid: int) -> None:
    assert lock_info(lease=None, pid=dead_pid, heartbeat=None).stale_reason(NOW + 1e6) is None
    assert lock_info(lease=None, host="x", heartbeat=None).stale_reason(NOW + 1e6) is None


# -- take: the window in which a lost race sees no lock ----------------------------------
# The engine reserves a container's name before the container is listed, so a
# run whose create lost (409) can find no lock for a moment. That window is a
# few milliseconds wide on a real engine and cannot be hit on demand, so an
# in-memory store plays it here.


class RacingStore:
    """A lock someone else created; it becomes readable after *hidden* finds."""

    def __init__(self, hidden: int) -> None:
        self.hidden = hidden
        self.finds = 0
        self.creates = 0

    def find(self) -> LockInfo | None:
        self.finds += 1
        if self.finds <= self.hidden:
            return None
        return lock_info(host="elsewhere", heartbeat=time.time())

    def create(self, info: LockInfo) -> None:
        self.creates += 1
        return None  # 409: the name is taken


def racing(hidden: int) -> tuple[RacingStore, LockStore[Any]]:
    fake = RacingStore(hidden)
    store: LockStore[Any] = LockStore(
        find=fake.find, join=lambda current: None, remove=lambda _: None, create=fake.create
    )
    return fake, store


def test_take_looks_again_until_the_winners_lock_is_readable() -> None:
    fake, store = racing(hidden=4)

    with pytest.raises(LockHeld, match=r"^p is locked by ci on elsewhere \(pid 1\)"):
        take(store, "p", "deploy 1.0.0", 60.0, token=None)

    assert (fake.finds, fake.creates) == (5, 4)


def test_take_reports_a_lock_that_never_becomes_readable_as_held() -> None:
    fake, store = racing(hidden=1000)

    with pytest.raises(LockHeld, match=r"^p is locked by another run that is taking it"):
        take(store, "p", "deploy 1.0.0", 60.0, token=None)

    assert fake.creates == fake.finds == 8


# -- notifications and masking -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/***"),
        ("http://127.0.0.1:8080/hook?token=s3cret", "http://127.0.0.1:8080/***"),
        ("https://user:pa55@hooks.example.com/x", "https://hooks.example.com/***"),
        ("https://hooks.example.com", "https://hooks.example.com/***"),
        ("not a url s3cret", "***"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
    assert "s3cret" not in mask_url(url) and "pa55" not in mask_url(url)


class Receiver:
    def __init__(self, status: int) -> None:
        self.posts: list[tuple[str, str, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, self.headers["Content-Type"], body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_post_all_sends_slack_json_to_every_url() -> None:
    first, second = Receiver(200), Receiver(200)
    try:
        warnings = post_all([first.url("/T1/secret-a"), second.url("/T2/secret-b")], "deployed")
    finally:
        first.close()
        second.close()
    assert warnings == []
    assert first.posts == [("/T1/secret-a", "application/json", b'{"text": "deployed"}')]
    assert second.posts == [("/T2/secret-b", "application/json", b'{"text": "deployed"}')]


def test_post_all_only_warns_and_masks_the_url_when_a_webhook_fails() -> None:
    failing = Receiver(500)
    refused = f"http://127.0.0.1:{closed_port()}/T3/secret-c"
    try:
        warnings = post_all([failing.url("/T4/secret-d"), refused], "deployed", timeout=2)
    finally:
        failing.close()
    assert len(failing.posts) == 1
    assert warnings[0] == (
        f"webhook http://127.0.0.1:{failing.httpd.server_port}/*** failed: Internal Server Error"
    )
    assert warnings[1].startswith(f"webhook {mask_url(refused)} failed: ")
    assert "secret" not in " ".join(warnings)
