"""The checks of ``relkit check``: config, git, Docker, compose files.

Each check returns a :class:`Check` (what was looked at and its verdict) and
its findings. Nothing here prints; the engine is reached through the
``connect`` callable the CLI passes in, so that this module never imports the
Docker SDK.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from relkit import git
from relkit.check.compose_model import merge_files
from relkit.check.compose_rules import ImageInspector, check_services
from relkit.check.findings import ERROR, WARNING, Finding, combine, sort_key
from relkit.config import Config, EnvironmentConfig
from relkit.errors import ConfigError, DockerUnavailable, GitError

OK = "ok"
SKIPPED = "skipped"

# connect(docker_host) -> an image inspector for that engine; raises DockerUnavailable.
Connect = Callable[[str], ImageInspector]


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, error, warning, skipped
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, name: str, findings: Sequence[Finding], detail: str) -> None:
        severities = {f.severity for f in findings}
        status = ERROR if ERROR in severities else WARNING if severities else OK
        self.checks.append(Check(name, status, detail))
        self.findings.extend(findings)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)


def check_git(root: Path, release_branches: Sequence[str]) -> tuple[list[Finding], str]:
    """Clean tree, release branch, not behind the upstream's remote-tracking ref.

    Nothing is fetched: "behind" is measured against the remote-tracking ref as
    of the last ``git fetch``.
    """
    if not git.is_repo(root):
        return [Finding(ERROR, "git-repo", f"{root} is not inside a git repository")], "no repo"
    findings: list[Finding] = []
    dirty = git.dirty_paths(root)
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        findings.append(Finding(ERROR, "git-clean", f"uncommitted changes: {shown}"))
    branch = git.current_branch(root)
    if branch is None:
        findings.append(
            Finding(ERROR, "git-branch", "HEAD is detached; check out a release branch")
        )
        return findings, "detached HEAD"
    if not any(fnmatch.fnmatchcase(branch, pattern) for pattern in release_branches):
        findings.append(
            Finding(
                ERROR,
                "git-branch",
                f"on branch {branch!r}, not a release branch"
                f" (release_branches: {', '.join(release_branches)})",
            )
        )
    code, out, _ = git.run_status(
        ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"], root
    )
    if code != 0:
        findings.append(
            Finding(
                WARNING,
                "git-upstream",
                f"branch {branch!r} has no upstream: cannot tell whether it is behind"
                f" (git branch --set-upstream-to=origin/{branch})",
            )
        )
        return findings, f"on {branch}, no upstream"
    upstream = out.strip()
    try:
        counts = git.run(["rev-list", "--left-right", "--count", "HEAD...@{upstream}"], root)
        ahead, behind = (int(n) for n in counts.split())
    except (GitError, ValueError):
        return findings, f"on {branch}, cannot compare with {upstream}"
    if behind:
        findings.append(
            Finding(
                ERROR,
                "git-behind",
                f"{behind} commit(s) behind {upstream} as of the last fetch"
                " (relkit check does not fetch); pull first",
            )
        )
    state = f"{ahead} ahead of" if ahead else "up to date with"
    return findings, f"on {branch}, {state} {upstream} (as of the last fetch)"


def check_compose(
    config: Config, env: EnvironmentConfig, inspect: ImageInspector | None
) -> tuple[list[Finding], str]:
    """The production-readiness findings of *env*'s compose files, merged in order."""
    files = [config.root / name for name in env.compose_files]
    missing = [path for path in files if not path.is_file()]
    if missing:
        return [
            Finding(
                ERROR,
                "compose-file",
                f"does not exist (compose_files of environment {env.name!r})",
                path,
                environments=(env.name,),
            )
            for path in missing
        ], "missing files"
    try:
        merged = merge_files(files)
    except ConfigError as exc:
        return [Finding(ERROR, "compose-file", exc.message, environments=(env.name,))], "invalid"
    one_off = {name for name in (env.migrate, env.restore, *env.pre_deploy) if name}
    pinned = {service for image in config.images for service in image.services}
    findings = check_services(
        merged, one_off=one_off, pinned=pinned, swarm=env.driver == "swarm", inspect=inspect
    )
    services = len(merged.get("services") or {})
    return [
        Finding(f.severity, f.rule, f.message, f.file, f.line, (env.name,)) for f in findings
    ], f"{services} services in {' + '.join(env.compose_files)}"


def run_checks(config: Config, environment: str | None, connect: Connect | None) -> Report:
    """Every check for *environment* (default: all of them). *connect* None skips Docker."""
    report = Report()
    where = str(config.file.name) if config.file else "defaults (no config file)"
    report.add("config", [], where)
    findings, detail = check_git(config.root, config.release_branches)
    report.add("git", findings, detail)
    envs = [config.environment(environment)] if environment else list(config.environments.values())
    inspectors: dict[str, ImageInspector | None] = {}
    if connect is None or not (envs or config.images):
        reason = "not asked" if connect is None else "no images or environments configured"
        report.checks.append(Check("docker", SKIPPED, reason))
    else:
        hosts = sorted({env.docker_host for env in envs} or {""})
        problems: list[Finding] = []
        for host in hosts:
            try:
                inspectors[host] = connect(host)
            except DockerUnavailable as exc:
                inspectors[host] = None
                problems.append(Finding(ERROR, "docker", str(exc)))
        report.add("docker", problems, ", ".join(h or "local engine" for h in hosts))
    compose: list[Finding] = []
    details: list[str] = []
    for env in envs:
        found, detail = check_compose(config, env, inspectors.get(env.docker_host))
        compose.extend(found)
        details.append(f"{env.name}: {detail}")
    if envs:
        report.add("compose", sorted(combine(compose), key=sort_key), "; ".join(details))
    else:
        report.checks.append(Check("compose", SKIPPED, "no environments configured"))
    return report


def run_at(start: Path, environment: str | None, connect: Connect | None) -> Report:
    """Load the configuration found from *start*, then :func:`run_checks`.

    An invalid configuration is the one finding (the other checks need it).
    """
    from relkit.config import load_config

    try:
        config = load_config(start)
    except ConfigError as exc:
        report = Report()
        report.add("config", [Finding(ERROR, "config", str(exc))], "invalid")
        for name in ("git", "docker", "compose"):
            report.checks.append(Check(name, SKIPPED, "the configuration is invalid"))
        return report
    return run_checks(config, environment, connect)
