"""Progress events of a build or a push: plain values that a renderer draws.

Kept free of docker imports so that renderers and tests can use them alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuildStep:
    """The engine started a Dockerfile step (``Step 2/5 : RUN make``)."""

    image: str
    text: str


@dataclass(frozen=True)
class BuildOutput:
    """A line the step printed."""

    image: str
    text: str


@dataclass(frozen=True)
class LayerProgress:
    """One layer of a push: its status and, while uploading, bytes done of total."""

    ref: str
    layer: str
    status: str
    current: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class Pushed:
    """A tag reached the registry."""

    ref: str
    digest: str


Event = BuildStep | BuildOutput | LayerProgress | Pushed
