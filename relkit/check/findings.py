"""What ``relkit check`` reports: findings with a place, a severity and a rule."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    rule: str
    message: str
    file: Path | None = None
    line: int | None = None
    environments: tuple[str, ...] = field(default=(), compare=False)

    def format(self, base: Path | None = None) -> str:
        """``file:line: severity: rule: message`` (the place only when there is one)."""
        place = ""
        if self.file is not None:
            place = f"{display_path(self.file, base)}:{self.line}: " if self.line else ""
            place = place or f"{display_path(self.file, base)}: "
        scope = f" [{', '.join(self.environments)}]" if self.environments else ""
        return f"{place}{self.severity}: {self.rule}: {self.message}{scope}"

    def as_dict(self, base: Path | None = None) -> dict[str, object]:
        return {
            "file": display_path(self.file, base) if self.file is not None else None,
            "line": self.line,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
            "environments": list(self.environments),
        }


def display_path(path: Path, base: Path | None) -> str:
    """*path* relative to *base* (``../`` included) when both are absolute."""
    if base is not None and path.is_absolute() and base.is_absolute():
        return os.path.relpath(path, base)
    return str(path)


def combine(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per place and message, listing every environment it applies to.

    A base compose file shared by staging and production gives the same finding
    for both; it is reported once. Order: first seen.
    """
    seen: dict[Finding, list[str]] = {}
    for finding in findings:
        envs = seen.setdefault(finding, [])
        envs.extend(e for e in finding.environments if e not in envs)
    return [
        Finding(f.severity, f.rule, f.message, f.file, f.line, tuple(envs))
        for f, envs in seen.items()
    ]


def sort_key(finding: Finding) -> tuple[str, int, str]:
    return (str(finding.file or ""), finding.line or 0, finding.rule)
