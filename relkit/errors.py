"""The one error hierarchy of relkit.

Every error the core raises is a :class:`RelkitError`. It carries the exit code
of SPEC section 5 and an optional hint (how to fix it). The CLI maps them to
``error: <what> — <how to fix>`` in one place (:mod:`relkit.cli.errors`).
"""

from __future__ import annotations

# Exit codes (SPEC section 5), documented in README.md.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ROLLED_BACK = 3
EXIT_ROLLBACK_FAILED = 4
EXIT_LOCKED = 5
EXIT_UNAVAILABLE = 69
EXIT_INTERRUPTED = 130


class RelkitError(Exception):
    """Base of every error relkit reports to a user."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} — {self.hint}"
        return self.message


class UsageError(RelkitError):
    exit_code = EXIT_USAGE


class ConfigError(RelkitError):
    pass


class VersionError(RelkitError):
    pass


class VersionFileError(RelkitError):
    pass


class ChangelogError(RelkitError):
    pass


class GitError(RelkitError):
    pass


class DockerError(RelkitError):
    pass


class DockerUnavailable(DockerError):
    exit_code = EXIT_UNAVAILABLE


class RegistryUnavailable(DockerError):
    exit_code = EXIT_UNAVAILABLE


class DeployFailed(RelkitError):
    """A deploy failed and the automatic rollback restored the previous release."""

    exit_code = EXIT_ROLLED_BACK


class RollbackFailed(RelkitError):
    """A deploy failed and the rollback failed too: a person must look."""

    exit_code = EXIT_ROLLBACK_FAILED


class LockHeld(RelkitError):
    exit_code = EXIT_LOCKED
