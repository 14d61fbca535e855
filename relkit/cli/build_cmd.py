"""``relkit build``: build every configured image, tag it, optionally push it."""

from __future__ import annotations

from typing import Annotated

import typer

from relkit.cli.errors import handle_errors
from relkit.cli.output import data, emit_json, github_outputs, say, warn

BUILD_HELP = """Build each configured image; with --push, push every tag and record the digest.

Build args VERSION, GIT_SHA and BUILD_DATE (RFC 3339 UTC; SOURCE_DATE_EPOCH
honoured) are passed with the configured ones; the OCI labels
org.opencontainers.image.{version,revision,created,source,title} are set.

Tags: {version}; for a final release also {major}.{minor}, {major} and latest;
sha-<7 hex> always. A pre-release gets no moving tag. SemVer build metadata
'+' becomes '_' in tags (Docker allows no '+').

stdout: one line per image, name@digest after a push, else name:version.
Registry credentials: Docker's config.json (docker login), or
RELKIT_REGISTRY_USER and RELKIT_REGISTRY_PASSWORD. Exit 69 when the engine
or the registry cannot be reached.
"""


def _labels(values: list[str]) -> dict[str, str]:
    from relkit.errors import UsageError

    labels = {}
    for value in values:
        key, eq, text = value.partition("=")
        if not eq or not key:
            raise UsageError(f"--label {value!r} is not KEY=VALUE", "e.g. --label team=payments")
        labels[key] = text
    return labels


def build(
    push: Annotated[bool, typer.Option("--push", help="Push every tag after building.")] = False,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", metavar="NAME", help="Build only this image (repeatable)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not use the engine's build cache.")
    ] = False,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", metavar="KEY=VALUE", help="An extra image label (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print images, tags and digests as JSON.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan (tags, args, labels); build nothing.")
    ] = False,
) -> None:
    with handle_errors():
        import os

        from relkit.build_plan import plan_build
        from relkit.config import load_config

        config = load_config()
        plan = plan_build(config, images=image or (), extra_labels=_labels(label or []))
        from relkit import git

        dirty = git.dirty_paths(config.root)
        if dirty:
            warn(
                f"building with uncommitted changes ({', '.join(dirty[:3])}"
                f"{' …' if len(dirty) > 3 else ''}); the images say {plan.git_sha[:7]} all the same"
            )
        if dry_run:
            if as_json:
                emit_json({**plan.as_dict(), "push": push, "dry_run": True})
                return
            for item in plan.images:
                say(f"would build {item.name} from {item.context} ({item.dockerfile})")
                for key, value in item.build_args.items():
                    say(f"  build arg {key}={value}")
                for key, value in item.labels.items():
                    say(f"  label {key}={value}")
                for ref in item.refs:
                    data(ref)
            if push:
                say("would push every tag")
            return

        from relkit.build_record import save_record
        from relkit.cli.build_progress import progress_for
        from relkit.docker.auth import credentials_from_env
        from relkit.docker.engine import connect
        from relkit.image_build import run_build

        credentials = credentials_from_env(os.environ) if push else None
        engine = connect()
        try:
            with progress_for(quiet=as_json) as progress:
                record = run_build(
                    plan,
                    engine,
                    push=push,
                    no_cache=no_cache,
                    credentials=credentials,
                    on_event=progress,
                )
        finally:
            engine.close()
        cache = save_record(config, record)
        result = {**record.as_dict(), "pushed": push, "record": str(cache) if cache else None}
        first = next(iter(record.images.values()))
        github_outputs(
            {
                "version": record.version,
                **({"digest": first.digest} if first.digest else {}),
                "images": ",".join(
                    img.ref if img.digest else f"{img.name}:{img.tags[0]}"
                    for img in record.images.values()
                ),
            },
            summary=_summary(record.as_dict()),
        )
        if as_json:
            emit_json(result)
            return
        for built in record.images.values():
            short = (built.image_id or "")[len("sha256:") :][:12]
            say(f"built {built.name} {short}: {', '.join(built.tags)}")
            data(built.ref if built.digest else f"{built.name}:{built.tags[0]}")


def _summary(record: dict[str, object]) -> str:
    lines = [f"### relkit build {record['version']}", ""]
    lines += ["| image | tags | digest |", "|---|---|---|"]
    for item in record["images"]:  # type: ignore[attr-defined]
        lines.append(f"| {item['name']} | {', '.join(item['tags'])} | {item['digest'] or '—'} |")
    return "\n".join(lines) + "\n"


build.__doc__ = BUILD_HELP
