"""Deploy overhead and rollback time of relkit's compose driver.

Two numbers from issue 5, on a one-service stack (a busybox web server with a
1 s healthcheck), the same images for every run:

* deploy overhead: ``relkit deploy`` minus a raw ``docker-compose up -d`` plus
  waiting until the container is healthy (medians over ``--runs`` alternating
  deploys of two versions, so every run replaces the container);
* rollback: from the start of ``relkit rollback`` to the old version answering
  ``/version`` (polled every 20 ms from a thread), and to the command's end.

    python bench/deploy_speed.py [--registry 127.0.0.1:5000] [--runs 5] [--settle 1.0] [--json]

The overhead includes the health gate's settle period (``health_settle``: every
service must stay healthy that long), which a bare ``up`` + "healthy" does not wait.

Needs: a Docker engine, a registry, docker-compose or docker compose, busybox-static
on this machine, relkit installed. Loopback only; everything it creates is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.base_images import ensure_busybox_image  # noqa: E402
from tests.web_image import context_tar, free_port  # noqa: E402

DOCKERFILE = """\
FROM {base}
COPY www/ /www/
HEALTHCHECK --interval=1s --timeout=1s --retries=3 \\
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
CMD ["sh", "-c", "httpd -f -p 8080 -h /www & pid=$!; trap 'kill $pid; exit 0' TERM; wait"]
"""


def build(client: docker.DockerClient, base: str, repo: str, version: str) -> None:
    files = {
        "Dockerfile": DOCKERFILE.format(base=base),
        "www/version": json.dumps({"version": version}) + "\n",
        "www/health": "ok\n",
    }
    labels = {"org.opencontainers.image.version": version}
    client.images.build(
        fileobj=context_tar(files),
        custom_context=True,
        tag=f"{repo}:{version}",
        labels=labels,
        rm=True,
    )
    for line in client.images.push(repo, tag=version, stream=True, decode=True):
        if "error" in line:
            raise SystemExit(f"push failed: {line['error']}")


def compose_command() -> list[str]:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return ["docker", "compose"] if probe.returncode == 0 else ["docker-compose"]


def answers(url: str, version: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return bool(json.loads(response.read()).get("version") == version)
    except (OSError, ValueError):
        return False


def wait_healthy(client: docker.DockerClient, project: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.containers.list(filters={"label": f"com.docker.compose.project={project}"})
        states = [c.attrs["State"].get("Health", {}).get("Status") for c in found]
        if states and all(s == "healthy" for s in states):
            return
        time.sleep(0.05)
    raise SystemExit("raw compose: not healthy in time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", default="127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--settle", type=float, default=0.5, help="health_settle of the environment (default 0.5)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    client = docker.from_env()
    base = ensure_busybox_image(client)
    uid = uuid.uuid4().hex[:8]
    repo = f"{args.registry}/relkit-bench-{uid}/web"
    project = f"relkit-bench-{uid}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/version"
    work = Path(tempfile.mkdtemp(prefix="relkit-bench-"))
    relkit = [sys.executable, "-m", "relkit"]
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(work / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"}
    compose = [*compose_command(), "-p", project, "-f", "docker-compose.yml"]
    try:
        for version in ("1.0.0", "2.0.0"):
            build(client, base, repo, version)
        (work / "docker-compose.yml").write_text(
            f'version: "3.8"\nservices:\n  web:\n    image: {repo}:${{WEB_VERSION:-1.0.0}}\n'
            f'    ports:\n      - "127.0.0.1:{port}:8080"\n'
        )
        (work / "VERSION").write_text("1.0.0\n")
        (work / "relkit.toml").write_text(
            f'[[images]]\nname = "{repo}"\nservices = ["web"]\n\n'
            f'[environments.staging]\ncompose_files = ["docker-compose.yml"]\n'
            f'project = "{project}"\nhealth_timeout = 60\nhealth_settle = {args.settle}\n'
        )
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True, env=env)

        raw: list[float] = []
        for run in range(args.runs):
            version = ("1.0.0", "2.0.0")[run % 2]
            started = time.monotonic()
            subprocess.run(
                [*compose, "up", "-d"],
                cwd=work,
                env={**env, "WEB_VERSION": version},
                check=True,
                capture_output=True,
            )
            wait_healthy(client, project)
            raw.append(time.monotonic() - started)
        subprocess.run([*compose, "down", "-t", "2"], cwd=work, env=env, capture_output=True)

        deploys: list[float] = []
        for run in range(args.runs):
            version = ("1.0.0", "2.0.0")[run % 2]
            started = time.monotonic()
            subprocess.run(
                [*relkit, "deploy", "staging", "--version", version],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
            deploys.append(time.monotonic() - started)

        # The last deploy ran 2.0.0 when runs is even, else 1.0.0: end on 2.0.0.
        if args.runs % 2:
            subprocess.run(
                [*relkit, "deploy", "staging", "--version", "2.0.0"],
                cwd=work,
                env=env,
                check=True,
                capture_output=True,
            )
        answered: list[float] = []
        started = time.monotonic()
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                if answers(url, "1.0.0"):
                    answered.append(time.monotonic() - started)
                    return
                time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        subprocess.run(
            [*relkit, "rollback", "staging"], cwd=work, env=env, check=True, capture_output=True
        )
        finished = time.monotonic() - started
        poller.join(timeout=10)
        stop.set()

        result = {
            "runs": args.runs,
            "health_settle_s": args.settle,
            "raw_compose_up_healthy_median_s": round(statistics.median(raw), 3),
            "relkit_deploy_median_s": round(statistics.median(deploys), 3),
            "deploy_overhead_s": round(statistics.median(deploys) - statistics.median(raw), 3),
            "rollback_until_old_version_answers_s": round(answered[0], 3) if answered else None,
            "rollback_command_s": round(finished, 3),
            "targets": {"deploy_overhead_s": 1.0, "rollback_until_old_version_answers_s": 5.0},
        }
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print("| measure | seconds | target |\n|---|---|---|")
            print(
                "| raw compose up + healthy (median) |"
                f" {result['raw_compose_up_healthy_median_s']} | |"
            )
            print(f"| relkit deploy (median) | {result['relkit_deploy_median_s']} | |")
            print(
                f"| deploy overhead (health_settle {args.settle:g} s) |"
                f" {result['deploy_overhead_s']} | ≤ 1.0 |"
            )
            print(
                "| rollback → old version answers |"
                f" {result['rollback_until_old_version_answers_s']} | ≤ 5.0 |"
            )
            print(f"| rollback command | {result['rollback_command_s']} | |")
        return 0
    finally:
        subprocess.run([*compose, "down", "-v", "-t", "2"], cwd=work, env=env, capture_output=True)
        for lock in client.containers.list(all=True, filters={"name": f"relkit-lock-{project}"}):
            lock.remove(force=True)
        for image in client.images.list(name=repo):
            client.images.remove(image.id, force=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
