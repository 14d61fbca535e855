"""relkit's state in a swarm: release records and the deploy lock as swarm configs.

Swarm configs live in the managers' raft store, so every manager sees the same
ones and a write is committed by a quorum before the API answers.

Records: one config per *version* of a record. A config's data is immutable
(only its labels can change), so saving a record creates a new config with the
next sequence number and then removes the older ones. Readers group configs by
record id and take the highest sequence, so a run killed between the create and
the remove leaves a readable, newest record. Names are short hashes (swarm
limits names to 64 characters); the labels say what a config is::

    relkit-rec-<sha256(namespace/id)[:16]>-<seq>
    org.relkit.state=record, org.relkit.record.namespace, .id, .seq

Lock: a config named ``relkit-lock-<namespace>``. Creating a config whose name
exists fails in the raft store, so of two machines racing for a lock exactly one
wins. Labels name the owner, host, pid, purpose, lease and a token. The holder
renews its lease by rewriting a label (``ConfigUpdate`` may change labels only,
and takes the version it read: a lock replaced by someone else cannot be
renewed by mistake); the manager stamps ``UpdatedAt`` on each renewal, so a
lease is measured with the managers' clock, not with the clocks of the machines
that run relkit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from relkit.docker.client import engine_errors
from relkit.errors import DockerError

LABEL = "org.relkit.state"
NAMESPACE_LABEL = "org.relkit.record.namespace"
ID_LABEL = "org.relkit.record.id"
SEQ_LABEL = "org.relkit.record.seq"
_NAME_OK = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")
MAX_NAME = 64


def _digest(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def record_config_name(namespace: str, record_id: str, seq: int) -> str:
    return f"relkit-rec-{_digest(f'{namespace}/{record_id}')}-{seq:05d}"


def lock_config_name(namespace: str) -> str:
    name = f"relkit-lock-{namespace}"
    if len(name) <= MAX_NAME and _NAME_OK.match(name):
        return name
    return f"relkit-lock-{_digest(namespace, 32)}"


def _data(raw: dict[str, Any]) -> bytes:
    encoded = (raw.get("Spec") or {}).get("Data") or ""
    return base64.b64decode(encoded)


def _configs(client: Any, *labels: str) -> list[dict[str, Any]]:
    with engine_errors("listing swarm configs"):
        found: list[dict[str, Any]] = client.api.configs(filters={"label": list(labels)})
    return found


class SwarmStore:
    """Release records of one swarm, one config per record version."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def _versions(self, namespace: str, record_id: str) -> list[dict[str, Any]]:
        return _configs(self.client, *self._labels(namespace, record_id))

    @staticmethod
    def _labels(namespace: str, record_id: str | None = None) -> list[str]:
        labels = [f"{LABEL}=record", f"{NAMESPACE_LABEL}={namespace}"]
        if record_id is not None:
            labels.append(f"{ID_LABEL}={record_id}")
        return labels

    def write(self, namespace: str, record_id: str, document: dict[str, Any]) -> None:
        import docker.errors

        data = json.dumps(document, indent=1, sort_keys=True).encode()
        older = self._versions(namespace, record_id)
        seq = 1 + max((_seq(c) for c in older), default=0)
        with engine_errors("writing a release record"):
            for _ in range(5):
                try:
                    self.client.api.create_config(
                        record_config_name(namespace, record_id, seq),
                        data,
                        labels={
                            LABEL: "record",
                            NAMESPACE_LABEL: namespace,
                            ID_LABEL: record_id,
                            SEQ_LABEL: str(seq),
                        },
                    )
                    break
                except docker.errors.APIError as exc:
                    if exc.status_code != 409:
                        raise
                    seq += 1  # a version we did not see yet: write after it
            else:
                raise DockerError(f"could not store record {record_id} in the swarm", "retry")
            for config in older:
                try:
                    self.client.api.remove_config(config["ID"])
                except docker.errors.NotFound:
                    pass

    def read_all(self, namespace: str) -> dict[str, dict[str, Any]]:
        """record id -> the newest version of that record."""
        newest: dict[str, tuple[int, dict[str, Any]]] = {}
        for config in _configs(self.client, *self._labels(namespace)):
            labels = (config.get("Spec") or {}).get("Labels") or {}
            record_id = labels.get(ID_LABEL, "")
            seq = _seq(config)
            if record_id in newest and newest[record_id][0] >= seq:
                continue
            try:
                document = json.loads(_data(config))
            except (ValueError, TypeError):
                continue
            if isinstance(document, dict):
                newest[record_id] = (seq, document)
        return {record_id: doc for record_id, (_, doc) in newest.items()}

    def remove_all(self, namespace: str) -> int:
        """Remove every record of *namespace* (tests and ``relkit`` maintenance)."""
        import docker.errors

        removed = 0
        with engine_errors("removing release records"):
            for config in _configs(self.client, *self._labels(namespace)):
                try:
                    self.client.api.remove_config(config["ID"])
                    removed += 1
                except docker.errors.NotFound:
                    pass
        return removed


def _seq(config: dict[str, Any]) -> int:
    labels = (config.get("Spec") or {}).get("Labels") or {}
    try:
        return int(labels.get(SEQ_LABEL, "0"))
    except ValueError:
        return 0
