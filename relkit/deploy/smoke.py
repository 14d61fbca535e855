"""Smoke tests: HTTP checks run from where relkit runs, with retries."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from relkit.config import SmokeCheck
from relkit.deploy.compose import StepFailed


def _substitute(value: Any, version: str) -> Any:
    if isinstance(value, str):
        return value.replace("{version}", version)
    if isinstance(value, dict):
        return {k: _substitute(v, version) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, version) for v in value]
    return value


def _missing(expected: Mapping[str, Any], actual: Any, prefix: str = "") -> list[str]:
    problems = []
    if not isinstance(actual, dict):
        return [f"{prefix or 'body'} is not a JSON object"]
    for key, want in expected.items():
        path = f"{prefix}.{key}" if prefix else key
        if key not in actual:
            problems.append(f"{path} is missing")
        elif isinstance(want, dict):
            problems.extend(_missing(want, actual[key], path))
        elif actual[key] != want:
            problems.append(f"{path} is {actual[key]!r}, expected {want!r}")
    return problems


def check_once(check: SmokeCheck, version: str) -> str | None:
    """None when the check passes, else what was wrong."""
    url = check.url.replace("{version}", version)
    request = urllib.request.Request(url, headers={"User-Agent": "relkit-smoke"})
    try:
        with urllib.request.urlopen(request, timeout=check.timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{url}: {reason}"
    if status != check.status:
        return f"{url}: HTTP {status}, expected {check.status}"
    if check.contains is not None and check.contains not in body.decode("utf-8", "replace"):
        return f"{url}: body does not contain {check.contains!r}"
    if check.json is not None:
        try:
            data = json.loads(body)
        except ValueError:
            return f"{url}: body is not JSON"
        problems = _missing(_substitute(dict(check.json), version), data)
        if problems:
            return f"{url}: {'; '.join(problems)}"
    return None


def run_smoke(
    checks: tuple[SmokeCheck, ...],
    version: str,
    on_retry: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    also: Sequence[str] = (),
) -> None:
    """Run every check; each is retried with backoff before it fails the deploy.

    ``{version}`` is *version*, or one of *also* (the pre-release a promoted
    release was built as: its images report that version).
    """
    for check in checks:
        delay = 0.25
        for attempt in range(1, max(1, check.retries) + 1):
            problem = check_once(check, version)
            for alias in also:
                if problem is not None and check_once(check, alias) is None:
                    problem = None
            if problem is None:
                break
            if attempt == max(1, check.retries):
                raise StepFailed(f"smoke test failed: {problem}")
            if on_retry is not None:
                on_retry(f"{problem} (attempt {attempt}/{check.retries})")
            sleep(delay)
            delay = min(delay * 2, 4.0)
