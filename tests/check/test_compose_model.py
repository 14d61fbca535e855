"""Compose files merged as compose merges them, with the file and line of every value."""

from __future__ import annotations

from pathlib import Path

import pytest

from relkit.check.compose_model import Where, load_located, merge_files
from relkit.errors import ConfigError

BASE = """\
x-logging: &logging
  driver: json-file
  options: {max-size: 10m, max-file: "3"}
services:
  api:
    image: api:1
    command: ["serve", "--port", "80"]
    ports: ["80:80"]
    environment:
      - A=1
      - B=2
    volumes:
      - data:/data
      - ./conf:/etc/app
    logging: *logging
    deploy:
      resources:
        limits: {memory: 128M}
"""

OVERRIDE = """\
services:
  api:
    command: ["serve"]
    ports: ["443:443", "80:80"]
    environment:
      B: "3"
      C: "4"
    volumes:
      - ./prod-conf:/etc/app
    logging:
      driver: syslog
    deploy:
      resources:
        limits: {cpus: "0.5"}
  worker:
    image: worker:1
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    base, override = tmp_path / "base.yml", tmp_path / "override.yml"
    base.write_text(BASE)
    override.write_text(OVERRIDE)
    return base, override


def test_merge_rules(files: tuple[Path, Path]) -> None:
    base, _override = files
    api = merge_files(list(files))["services"]["api"]
    assert api["command"] == ["serve"]  # replaced
    assert api["ports"] == ["80:80", "443:443"]  # appended, no duplicate
    assert dict(api["environment"]) == {"A": "1", "B": "3", "C": "4"}  # by key
    assert api["volumes"] == ["data:/data", "./prod-conf:/etc/app"]  # by target
    assert api["logging"] == {"driver": "syslog"}  # another driver: replaced whole
    assert api["deploy"] == {"resources": {"limits": {"memory": "128M", "cpus": "0.5"}}}
    assert merge_files([base])["services"]["api"]["image"] == "api:1"


def test_where_each_value_was_set(files: tuple[Path, Path]) -> None:
    base, override = files
    merged = merge_files(list(files))
    services = merged["services"]
    api = services["api"]
    assert services.where["api"] == Where(base, 5)  # defined in the first file
    assert services.where["worker"] == Where(override, 15)
    assert api.where["image"] == Where(base, 6)
    assert api.where["command"] == Where(override, 3)
    assert api["environment"].where == {
        "A": Where(base, 10),
        "B": Where(override, 6),
        "C": Where(override, 7),
    }
    assert api["ports"].where == [Where(base, 8), Where(override, 4)]
    assert api["deploy"]["resources"]["limits"].where["memory"] == Where(base, 18)
    assert api["deploy"]["resources"]["limits"].where["cpus"] == Where(override, 14)


def test_same_driver_logging_merges_options(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(BASE)
    (tmp_path / "b.yml").write_text(
        "services:\n  api:\n    logging:\n      options: {max-file: '9'}\n"
    )
    api = merge_files([tmp_path / "a.yml", tmp_path / "b.yml"])["services"]["api"]
    assert api["logging"] == {
        "driver": "json-file",
        "options": {"max-size": "10m", "max-file": "9"},
    }


def test_anchor_and_merge_key_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("x: &base\n  restart: always\nservices:\n  a:\n    <<: *base\n    image: a:1\n")
    service = load_located(path)["services"]["a"]
    assert service == {"restart": "always", "image": "a:1"}
    assert service.where["restart"] == Where(path, 2)  # where the merged value was written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [a, b]\n", "c.yml:1: 'services' must be a mapping"),
        ("services:\n  a: {image: [}\n", "c.yml:2: invalid YAML"),
        ("- a\n", "c.yml:1: a compose file must be a mapping"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_located(path)
    assert f"{tmp_path}/{message}" in info.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_located(tmp_path / "nope.yml")
