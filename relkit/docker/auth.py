"""Registry credentials: RELKIT_REGISTRY_USER/RELKIT_REGISTRY_PASSWORD, else Docker's config.

Without the variables, pushes use whatever ``docker login`` stored in Docker's
config.json (docker-py reads it, credential helpers included). A password
never reaches output: :class:`Credentials` hides it from ``repr`` and
:func:`mask` blanks it out of any message relkit prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from relkit.errors import ConfigError

USER_VAR = "RELKIT_REGISTRY_USER"
PASSWORD_VAR = "RELKIT_REGISTRY_PASSWORD"
MASK = "***"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}


def credentials_from_env(env: Mapping[str, str]) -> Credentials | None:
    user, password = env.get(USER_VAR, ""), env.get(PASSWORD_VAR, "")
    if not user and not password:
        return None
    if not user or not password:
        missing = USER_VAR if not user else PASSWORD_VAR
        raise ConfigError(
            f"{missing} is not set but its partner is",
            f"set both {USER_VAR} and {PASSWORD_VAR}, or neither to use 'docker login'",
        )
    return Credentials(user, password)


def mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
