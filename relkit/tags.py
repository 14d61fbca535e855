"""Release tags: plan (checks, message), create (annotated or signed), push, verify.

Signing uses git's own configuration: ``git tag --sign`` signs with GPG, or
with SSH when ``gpg.format=ssh`` (``user.signingkey`` names the key).
Verification is ``git tag -v``, which needs ``gpg.ssh.allowedSignersFile``
for SSH signatures.
"""

from __future__ import annotations

from dataclasses import dataclass

from relkit import git
from relkit.config import Config
from relkit.errors import ChangelogError, GitError


@dataclass(frozen=True)
class TagPlan:
    name: str
    version: str
    sha: str
    message: str
    sign: bool
    remote: str | None  # where to push; None: do not push
    branch: str | None  # pushed with the tag (atomic) when on a branch

    def as_dict(self) -> dict[str, object]:
        return {
            "tag": self.name,
            "version": self.version,
            "sha": self.sha,
            "signed": self.sign,
            "remote": self.remote,
            "branch": self.branch,
        }


def remote_exists(config: Config, remote: str) -> bool:
    code, _, _ = git.run_status(["remote", "get-url", remote], config.root)
    return code == 0


def on_remote(config: Config, remote: str, name: str) -> bool:
    code, out, err = git.run_status(
        ["ls-remote", "--tags", remote, f"refs/tags/{name}"], config.root
    )
    if code != 0:
        detail = (err.strip().splitlines() or [f"exit code {code}"])[-1]
        raise GitError(
            f"cannot list the tags of {remote}: {detail}", "check the remote and the network"
        )
    return bool(out.strip())


def release_message(config: Config, version: str) -> str:
    """The release notes of *version* from the changelog, or a one-line message."""
    from relkit.changelog.notes import notes_for, render_markdown
    from relkit.changelog.plans import read

    doc, _ = read(config)
    if doc is not None:
        try:
            return render_markdown(notes_for(doc, version, config.scheme))
        except ChangelogError:
            pass
    return f"Release {version}\n"


def plan_tag(
    config: Config,
    *,
    sign: bool = False,
    push: bool = False,
    remote: str = "origin",
    force_ref: bool = False,
) -> TagPlan:
    """Check everything a release tag needs; change nothing."""
    from relkit.bump_plan import current_version

    root = config.root
    version = str(current_version(config).version)
    name = config.tag_for(version)
    sha = git.head_sha(root)
    if sha is None:
        raise GitError("the repository has no commits", "commit the release first")
    if git.tag_exists(root, name):
        raise GitError(f"tag {name} already exists", "bump to a new version first")
    has_remote = remote_exists(config, remote)
    if push and not has_remote:
        raise GitError(f"there is no remote {remote!r}", "add it, or name another with --remote")
    if has_remote and on_remote(config, remote, name):
        raise GitError(f"tag {name} already exists on {remote}", "bump to a new version first")
    expected = config.commit_message.format(version=version)
    subject = git.run(["log", "-1", "--format=%s", "HEAD"], root).strip()
    if subject != expected and not force_ref:
        raise GitError(
            f"HEAD ({sha[:12]}: {subject!r}) is not the release commit of {version} ({expected!r})",
            "check out the release commit, or pass --force-ref to tag HEAD anyway",
        )
    return TagPlan(
        name=name,
        version=version,
        sha=sha,
        message=release_message(config, version),
        sign=sign or config.sign_tags,
        remote=remote if push else None,
        branch=git.current_branch(root),
    )


def create_tag(config: Config, plan: TagPlan) -> None:
    git.create_tag(config.root, plan.name, plan.message, sign=plan.sign, ref=plan.sha)


def push_tag(config: Config, plan: TagPlan) -> None:
    """``git push --atomic`` of the branch and the tag: the remote gets both or neither."""
    assert plan.remote is not None
    refs = [f"refs/tags/{plan.name}:refs/tags/{plan.name}"]
    if plan.branch is not None:
        refs.insert(0, f"refs/heads/{plan.branch}:refs/heads/{plan.branch}")
    code, _, err = git.run_status(
        ["push", "--atomic", "--porcelain", plan.remote, *refs], config.root
    )
    if code != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit code {code}"
        raise GitError(
            f"git push --atomic to {plan.remote} failed: {detail}",
            f"nothing was pushed; the tag {plan.name} exists locally only",
        )


def verify_tag(config: Config, name: str) -> str:
    """git's report of a good signature; :class:`GitError` when the tag is unsigned or bad."""
    if not git.tag_exists(config.root, name):
        raise GitError(f"tag {name} does not exist", "name an existing tag")
    code, out, err = git.run_status(["tag", "-v", name], config.root)
    report = "\n".join(
        line for line in (err + out).splitlines() if line.strip() and _is_signature_line(line)
    )
    if code != 0:
        last = (err.strip().splitlines() or ["no signature"])[-1]
        raise GitError(
            f"tag {name}: signature check failed: {last}",
            "is the tag signed, "
            "and does git know the key (gpg keyring, gpg.ssh.allowedSignersFile)?",
        )
    return report or f"tag {name}: good signature"


def _is_signature_line(line: str) -> bool:
    lowered = line.lower()
    return "signature" in lowered or lowered.startswith("gpg:")
