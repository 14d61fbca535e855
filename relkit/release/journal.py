"""The release journal: which steps of a release are done, so ``--resume`` skips them.

It lives in the repository's git directory (``<git common dir>/relkit/release.json``),
where the next attempt on the same clone finds it. A CI job that resumes on a
fresh runner restores that file first (see docs/release-process.md).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from relkit import git
from relkit.config import Config
from relkit.errors import RelkitError
from relkit.files import write_atomic

PENDING, RUNNING, DONE, FAILED, SKIPPED = "pending", "running", "done", "failed", "skipped"


@dataclass
class StepState:
    name: str
    state: str = PENDING
    seconds: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Journal:
    previous: str  # version before the release
    version: str  # version being released
    part: str
    environments: list[str]
    started_at: str
    head_before: str | None
    steps: list[StepState]
    release_commit: str | None = None
    finished: bool = False
    outcome: str | None = None

    def step(self, name: str) -> StepState:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Journal:
        steps = [StepState(**s) for s in data.pop("steps", [])]
        return cls(steps=steps, **data)


def path_for(config: Config) -> Path:
    common = git.run(["rev-parse", "--git-common-dir"], config.root).strip()
    return (config.root / common).resolve() / "relkit" / "release.json"


def load(config: Config) -> Journal | None:
    path = path_for(config)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RelkitError(
            f"{path}: unreadable release journal ({exc})",
            "remove it to start over (relkit release --abandon)",
        ) from None
    return Journal.from_dict(data)


def save(config: Config, journal: Journal) -> None:
    path = path_for(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(journal.as_dict(), indent=1) + "\n")


def discard(config: Config) -> bool:
    path = path_for(config)
    if path.exists():
        path.unlink()
        return True
    return False
