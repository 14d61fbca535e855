"""Notifications: a Slack-compatible JSON POST per webhook; never fatal, never printed."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence

from relkit.deploy.records import mask_url


def post_all(urls: Sequence[str], text: str, timeout: float = 5.0) -> list[str]:
    """POST ``{"text": text}`` to each URL; return warnings (with masked URLs)."""
    warnings = []
    payload = json.dumps({"text": text}).encode()
    for url in urls:
        request = urllib.request.Request(
            url,
            data=payload,
            headers={"Content-Type": "application/json", "User-Agent": "relkit"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status >= 300:
                    warnings.append(f"webhook {mask_url(url)} answered HTTP {response.status}")
        except Exception as exc:  # any failure only warns
            reason = getattr(exc, "reason", None) or type(exc).__name__
            warnings.append(f"webhook {mask_url(url)} failed: {reason}")
    return warnings
