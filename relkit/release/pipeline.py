"""The release pipeline: preflight → bump (with changelog) and release commit →
build → push → deploy to each environment in order → tag → atomic push of
branch and tag → release notes. Each step is journalled, so a failed or killed
run resumes without repeating what is done: no second bump, commit, tag or image.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relkit import git
from relkit.bump_plan import BumpPlan, apply_bump, current_version, plan_bump, uncommitted
from relkit.config import Config
from relkit.deploy.pipeline import Approver, Reporter, Target
from relkit.errors import GitError, RelkitError, UsageError
from relkit.release import journal as jr
from relkit.release.journal import Journal, StepState


@dataclass(frozen=True)
class ReleaseOptions:
    part: str | None = None
    pre: str | None = None
    to: str | None = None
    environments: tuple[str, ...] | None = None  # None: every configured one (pre: prerelease_envs)
    yes: bool = False
    push: bool = True  # push branch and tag when a remote exists
    remote: str = "origin"
    sign: bool = False
    notes_file: Path | None = None
    date: str | None = None
    allow_empty_changelog: bool = False


@dataclass(frozen=True)
class Hooks:
    """What the CLI provides: how to reach a target and how to ask for approval."""

    target_for: Callable[[str], Target]
    approver_for: Callable[[str], Approver | None]
    who: str = "unknown"
    notify_for: Callable[[str], Any] | None = None


def environments_for(config: Config, options: ReleaseOptions, prerelease: bool) -> list[str]:
    if options.environments is not None:
        names = list(options.environments)
    elif prerelease:
        names = [n for n in config.prerelease_envs if n in config.environments]
    else:
        names = list(config.environments)
    for name in names:
        config.environment(name)  # unknown names fail here, before anything changes
    return names


def step_names(config: Config, environments: Sequence[str]) -> list[str]:
    names = ["preflight", "bump"]
    if config.images:
        names += ["build", "push"]
    names += [f"deploy:{env}" for env in environments]
    return [*names, "tag", "push-tag", "notes"]


def plan_release(config: Config, options: ReleaseOptions) -> tuple[BumpPlan, list[str]]:
    """The bump this release makes and the environments it ships to; changes nothing."""
    from relkit.changelog.plans import release_date, release_edits

    # Promoting a pre-release to its final version may have nothing new to say:
    # the pre-release sections already list the changes.
    allow_empty = options.allow_empty_changelog or options.part == "release"
    plan = plan_bump(
        config,
        part=options.part,
        pre=options.pre,
        to=options.to,
        extra_edits=release_edits(config, release_date(options.date), allow_empty),
    )
    return plan, environments_for(config, options, plan.version.is_prerelease)


def describe_plan(config: Config, plan: BumpPlan, environments: Sequence[str]) -> dict[str, Any]:
    from relkit.build_plan import image_tags

    # The sha tag names the release commit, which the bump has yet to make.
    tags = [*image_tags(plan.version, "0" * 40)[:-1], "sha-<release commit>"]
    promotion = _is_promotion(plan.previous, plan.version)
    return {
        "previous": str(plan.previous),
        "version": str(plan.version),
        "files": [edit.relpath for edit in plan.edits],
        "commit": plan.commit_message,
        "tag": config.tag_for(plan.version),
        "signed": config.sign_tags,
        "images": [
            {
                "name": image.name,
                "tags": tags,
                "source": f"retag of {plan.previous}" if promotion else "build",
            }
            for image in config.images
        ],
        "environments": [
            {"name": name, "approval": config.environment(name).approval} for name in environments
        ],
        "steps": step_names(config, environments),
    }


def _is_promotion(previous: Any, version: Any) -> bool:
    return bool(previous.is_prerelease and not version.is_prerelease)


class Release:
    """One run of the pipeline over a journal."""

    def __init__(
        self, config: Config, options: ReleaseOptions, hooks: Hooks, reporter: Reporter
    ) -> None:
        self.config = config
        self.options = options
        self.hooks = hooks
        self.reporter = reporter
        self.journalled = False  # whether a journal exists that --resume can continue

    # -- starting and resuming -------------------------------------------------
    def start(self) -> Journal:
        existing = jr.load(self.config)
        if existing is not None and not existing.finished:
            failed = next((s.name for s in existing.steps if s.state == jr.FAILED), None)
            where = f" (failed at {failed})" if failed else ""
            raise RelkitError(
                f"a release of {existing.version} is unfinished{where}",
                "continue it with 'relkit release --resume', or drop it with --abandon",
            )
        plan, environments = plan_release(self.config, self.options)
        self.reporter.step_started("preflight")
        started = time.monotonic()
        try:
            self._preflight()
        except RelkitError as exc:
            self.reporter.step_failed("preflight", time.monotonic() - started, str(exc))
            raise
        seconds = round(time.monotonic() - started, 3)
        journal = Journal(
            previous=str(plan.previous),
            version=str(plan.version),
            part=self.options.part or f"--to {self.options.to}",
            environments=environments,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            head_before=git.head_sha(self.config.root),
            steps=[StepState(name) for name in step_names(self.config, environments)],
        )
        journal.step("preflight").state = jr.DONE
        journal.step("preflight").seconds = seconds
        jr.save(self.config, journal)
        self.journalled = True
        self.reporter.step_finished("preflight", seconds)
        return self._run(journal, plan)

    def resume(self) -> Journal:
        journal = jr.load(self.config)
        if journal is None or journal.finished:
            raise RelkitError(
                "there is no unfinished release to resume", "start one: relkit release"
            )
        head = git.head_sha(self.config.root)
        bump = journal.step("bump")
        if (
            bump.state != jr.DONE
            and head != journal.head_before
            and self._is_release_commit(journal, head)
        ):
            # Killed between the release commit and the journal's note of it.
            bump.state, journal.release_commit = jr.DONE, head
            bump.detail = {"commit": head, "recovered": True}
            jr.save(self.config, journal)
        bumped = bump.state == jr.DONE
        if bumped:
            if head != journal.release_commit:
                raise RelkitError(
                    f"HEAD moved since the release commit of {journal.version}"
                    f" ({(journal.release_commit or '?')[:12]} → {(head or '?')[:12]})",
                    "put the release branch back on the release commit to resume"
                    f" (git reset --hard {(journal.release_commit or '?')[:12]}, after saving"
                    " the new commits elsewhere), or --abandon and release anew",
                )
            now = str(current_version(self.config).version)
            if now != journal.version:
                raise RelkitError(
                    f"the version files say {now}, the unfinished release is {journal.version}",
                    "restore them, or --abandon and release anew",
                )
        elif head != journal.head_before:
            raise RelkitError(
                f"HEAD moved since the release of {journal.version} started",
                "check out the commit it started from, or --abandon",
            )
        pushes = self.options.push and journal.step("push-tag").state == jr.PENDING
        if pushes and git.current_branch(self.config.root) is None:
            # push-tag pushes the branch with the tag: from a detached HEAD only the tag would go.
            raise GitError(
                "HEAD is detached: the release pushes its branch together with the tag",
                "check out the release branch (at the release commit) and resume",
            )
        self.journalled = True
        self.reporter.info(f"resuming the release of {journal.version}")
        return self._run(journal, None)

    def _is_release_commit(self, journal: Journal, head: str | None) -> bool:
        """Whether *head* is this release's commit, made right on top of where it started."""
        if head is None or journal.head_before is None:
            return False
        parent = git.run(
            ["rev-parse", "--verify", "--quiet", f"{head}~1"], self.config.root, check=False
        ).strip()
        subject = git.run(["log", "-1", "--format=%s", head], self.config.root).strip()
        expected = self.config.commit_message.format(version=journal.version)
        return parent == journal.head_before and subject == expected

    # -- the steps ----------------------------------------------------------------
    def _run(self, journal: Journal, plan: BumpPlan | None) -> Journal:
        for step in journal.steps:
            if step.state in (jr.DONE, jr.SKIPPED):
                if step.name != "preflight":
                    self.reporter.info(f"{step.name}: already done")
                continue
            action = self._action(step.name)
            self.reporter.step_started(step.name)
            step.state, step.error = jr.RUNNING, None
            jr.save(self.config, journal)
            started = time.monotonic()
            try:
                detail = action(journal, plan)
            except BaseException as exc:
                step.state = jr.FAILED
                step.seconds = round(time.monotonic() - started, 3)
                step.error = str(exc) if isinstance(exc, RelkitError) else type(exc).__name__
                journal.outcome = "failed"
                jr.save(self.config, journal)
                self.reporter.step_failed(step.name, step.seconds, step.error)
                raise
            step.seconds = round(time.monotonic() - started, 3)
            if detail is None:
                step.state = jr.SKIPPED
                self.reporter.info(f"{step.name}: skipped")
            else:
                step.state, step.detail = jr.DONE, detail
                self.reporter.step_finished(step.name, step.seconds)
            jr.save(self.config, journal)
        journal.finished, journal.outcome = True, "released"
        jr.save(self.config, journal)
        return journal

    def _action(self, name: str) -> Callable[[Journal, BumpPlan | None], dict[str, Any] | None]:
        if name.startswith("deploy:"):
            env = name.split(":", 1)[1]
            return lambda journal, plan: self._deploy(journal, env)
        actions: dict[str, Callable[[Journal, BumpPlan | None], dict[str, Any] | None]] = {
            "preflight": self._preflight_step,
            "bump": self._bump,
            "build": self._build,
            "push": self._push,
            "tag": self._tag,
            "push-tag": self._push_tag,
            "notes": self._notes,
        }
        return actions[name]

    def _preflight_step(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        self._preflight()
        return {}

    def _preflight(self) -> None:
        root = self.config.root
        dirty = uncommitted(self.config)
        if dirty:
            raise GitError(
                f"the working tree has uncommitted changes: {', '.join(dirty[:5])}",
                "commit or stash them",
            )
        branch = git.current_branch(root)
        if self.config.release_branches and branch not in self.config.release_branches:
            raise GitError(
                f"{branch or 'a detached HEAD'} is not a release branch"
                f" ({', '.join(self.config.release_branches)})",
                "switch to a release branch",
            )
        behind = git.run(["rev-list", "--count", "HEAD..@{upstream}"], root, check=False).strip()
        if behind.isdigit() and int(behind) > 0:
            raise GitError(
                f"{branch} is {behind} commit(s) behind its upstream (as last fetched)",
                "pull first: the release must contain what is already on the remote",
            )
        for command in self.config.checks:
            self._check(command)

    def _check(self, command: str) -> None:
        argv = shlex.split(command)
        self.reporter.info(f"check: {command}")
        try:
            proc = subprocess.run(
                argv, cwd=self.config.root, capture_output=True, text=True, errors="replace"
            )
        except FileNotFoundError:
            raise RelkitError(f"check {command!r}: {argv[0]} not found", "fix checks") from None
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
            raise RelkitError(
                f"check {command!r} failed (exit {proc.returncode}):\n{tail}",
                "fix it and release again; nothing was changed",
            )

    def _bump(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        if plan is None:  # resuming a run that stopped before its bump
            plan, _ = plan_release(self.config, self.options_for(journal))
        if str(plan.version) != journal.version:
            raise RelkitError(
                f"the bump would now give {plan.version}, the journal says {journal.version}",
                "--abandon and release anew",
            )
        sha = apply_bump(self.config, plan, sign=False)
        journal.release_commit = sha
        return {"commit": sha, "files": [edit.relpath for edit in plan.edits]}

    def options_for(self, journal: Journal) -> ReleaseOptions:
        return ReleaseOptions(to=journal.version, environments=tuple(journal.environments))

    def _engine(self) -> Any:
        from relkit.docker.engine import connect

        return connect()

    def _build(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        from relkit.build_plan import plan_build
        from relkit.build_record import BuildRecord, BuiltImage, save_record
        from relkit.version import parse

        previous = parse(journal.previous, self.config.scheme)
        version = parse(journal.version, self.config.scheme)
        build = plan_build(self.config)
        engine = self._engine()
        try:
            if _is_promotion(previous, version):
                from relkit.build_record import find_build

                tested = find_build(self.config, journal.previous)
                built = {}
                for image in build.images:
                    image_id = engine.pull(tested.image(image.name).ref)
                    for tag in image.tags:
                        engine.tag(image_id, image.name, tag)
                    built[image.name] = BuiltImage(image.name, image.tags, image_id, None)
                    self.reporter.info(
                        f"retagged {image.name} {journal.previous} → {journal.version}"
                    )
                record = BuildRecord(
                    build.version,
                    build.git_sha,
                    build.created,
                    built,
                    built_as=tested.built_as or journal.previous,
                )
            else:
                from relkit.image_build import run_build

                record = run_build(build, engine, push=False)
        finally:
            engine.close()
        save_record(self.config, record)
        return {"images": {n: i.image_id for n, i in record.images.items()}}

    def _push(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        from relkit.build_record import BuiltImage, load_cached, save_record
        from relkit.docker.auth import credentials_from_env

        record = load_cached(self.config, journal.version)
        if record is None:
            raise RelkitError(
                f"the build of {journal.version} is not in the local cache",
                "run 'relkit build' on the release commit, then 'relkit release --resume'",
            )
        credentials = credentials_from_env(os.environ)
        engine = self._engine()
        pushed = {}
        try:
            for name, image in record.images.items():
                digest = None
                for tag in image.tags:
                    digest = engine.push(name, tag, credentials=credentials)
                pushed[name] = BuiltImage(name, image.tags, image.image_id, digest)
        finally:
            engine.close()
        from relkit.build_record import BuildRecord

        save_record(
            self.config,
            BuildRecord(
                record.version,
                record.git_sha,
                record.created,
                pushed,
                origin="build",
                built_as=record.built_as,
            ),
        )
        return {"digests": {n: i.digest for n, i in pushed.items()}}

    def _deploy(self, journal: Journal, env_name: str) -> dict[str, Any]:
        from relkit.build_record import find_build
        from relkit.deploy.pipeline import Release as Shipment
        from relkit.deploy.pipeline import execute

        env = self.config.environment(env_name)
        build = find_build(self.config, journal.version)
        shipment = Shipment(
            journal.version,
            {name: image.ref for name, image in build.images.items()},
            build.git_sha or journal.release_commit,
            reports=(build.built_as,) if build.built_as else (),
        )
        target = self.hooks.target_for(env_name)
        try:
            record = execute(
                self.config,
                env,
                target,
                shipment,
                self.reporter,
                approve=self.hooks.approver_for(env_name),
                who=self.hooks.who,
                notify=self.hooks.notify_for(env_name) if self.hooks.notify_for else None,
            )
        finally:
            target.close()
        return {"record": record.id, "outcome": record.outcome}

    def _tag_plan(self) -> Any:
        from relkit.tags import plan_tag

        return plan_tag(
            self.config,
            sign=self.options.sign,
            push=self.options.push and self._has_remote(),
            remote=self.options.remote,
        )

    def _has_remote(self) -> bool:
        from relkit.tags import remote_exists

        return remote_exists(self.config, self.options.remote)

    def _tag(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        from relkit.tags import create_tag

        name = self.config.tag_for(journal.version)
        if git.tag_exists(self.config.root, name):
            target = git.run(["rev-list", "-n", "1", name], self.config.root).strip()
            if target == journal.release_commit:
                return {"tag": name, "existing": True}
        tag = self._tag_plan()
        create_tag(self.config, tag)
        return {"tag": name, "signed": tag.sign}

    def _push_tag(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any] | None:
        if not self.options.push or not self._has_remote():
            return None
        from relkit.tags import TagPlan, push_tag

        name = self.config.tag_for(journal.version)
        push_tag(
            self.config,
            TagPlan(
                name=name,
                version=journal.version,
                sha=journal.release_commit or "",
                message="",
                sign=False,
                remote=self.options.remote,
                branch=git.current_branch(self.config.root),
            ),
        )
        return {"remote": self.options.remote, "tag": name}

    def _notes(self, journal: Journal, plan: BumpPlan | None) -> dict[str, Any]:
        from relkit.files import write_atomic
        from relkit.tags import release_message

        notes = release_message(self.config, journal.version)
        if self.options.notes_file is not None:
            write_atomic(self.options.notes_file, notes)
        return {"file": str(self.options.notes_file) if self.options.notes_file else None}


def abandon(config: Config) -> bool:
    return jr.discard(config)


def check_options(options: ReleaseOptions, resume: bool) -> None:
    if resume and (options.part or options.to):
        raise UsageError("--resume continues the unfinished release", "give no PART or --to")
    if not resume and not (options.part or options.to):
        raise UsageError("give a PART (major, minor, patch, pre, release, auto) or --to")
