"""Carry out a :class:`BuildPlan` on an engine: build, tag, optionally push; return the record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relkit.build_plan import BuildPlan
from relkit.build_record import BuildRecord, BuiltImage

if TYPE_CHECKING:
    from relkit.docker.auth import Credentials
    from relkit.docker.engine import Engine, EventSink


def run_build(
    plan: BuildPlan,
    engine: Engine,
    *,
    push: bool = False,
    no_cache: bool = False,
    credentials: Credentials | None = None,
    on_event: EventSink | None = None,
) -> BuildRecord:
    """Build every image of *plan* (all of them before any push), then push each tag."""
    ids: dict[str, str] = {}
    for image in plan.images:
        first, *others = image.tags
        ids[image.name] = engine.build(
            name=image.name,
            context=image.context,
            dockerfile=image.dockerfile,
            tag=first,
            build_args=image.build_args,
            labels=image.labels,
            no_cache=no_cache,
            on_event=on_event,
        )
        for tag in others:
            engine.tag(ids[image.name], image.name, tag)
    built: dict[str, BuiltImage] = {}
    for image in plan.images:
        digest = None
        if push:
            for tag in image.tags:
                digest = engine.push(image.name, tag, credentials=credentials, on_event=on_event)
        built[image.name] = BuiltImage(image.name, image.tags, ids[image.name], digest)
    return BuildRecord(plan.version, plan.git_sha, plan.created, built, origin="build")
