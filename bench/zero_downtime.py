"""Zero-downtime measurement of relkit's swarm driver: failed requests during a deploy.

Builds two versions of a small busybox web image, pushes them to a local
registry, deploys 1.0.0 with ``relkit deploy`` (driver = "swarm": two replicas,
start-first, ``endpoint_mode: dnsrr`` on an attachable overlay network), then
starts a client container (busybox) on that network that requests
``http://tasks.web:8080/version`` in a bounded loop (``--requests`` or
``--seconds``, whichever comes first) and deploys 2.0.0 meanwhile. Prints
``failed/total`` and the versions that answered. Loopback and overlay only:
the ingress routing mesh and service VIPs do not answer on every machine, and
``tasks.<service>`` resolution does (the client resolves it before every
request and uses one address in turn).

    python bench/zero_downtime.py [--registry 127.0.0.1:5000] [--requests 2000]
                                  [--seconds 60] [--pause-ms 10] [--drain 2] [--json]

``--drain``: seconds the web process keeps serving after SIGTERM before it
exits (the usual way to let swarm's DNS stop naming a task before it goes);
``--drain 0`` measures a process that exits at once.

Needs: a swarm manager (``docker swarm init --advertise-addr 127.0.0.1``), the
docker CLI, a registry, busybox-static on this machine, relkit installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.base_images import ensure_busybox_image  # noqa: E402
from tests.web_image import context_tar  # noqa: E402

DOCKERFILE = """\
FROM {base}
COPY www/ /www/
COPY start.sh /start.sh
HEALTHCHECK --interval=1s --timeout=1s --retries=2 \\
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
CMD ["sh", "/start.sh"]
"""
START = """\
httpd -f -p 8080 -h /www &
pid=$!
trap 'sleep {drain}; kill $pid; exit 0' TERM INT
wait
"""
COMPOSE = """\
version: "3.8"
services:
  web:
    image: "{image}:placeholder"
    stop_grace_period: 10s
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
networks:
  default:
    driver: overlay
    attachable: true
"""
RELKIT_TOML = """\
[[images]]
name = "{image}"
services = ["web"]

[environments.bench]
driver = "swarm"
stack = "{stack}"
compose_files = ["docker-compose.yml"]
health_timeout = 120
"""
# The client: one line per request, "ok <body>" or "fail", bounded by count and time.
# It resolves tasks.web before every request (what a dnsrr client does) and picks
# one address in turn (nslookup: the static busybox's own resolver). The timeout
# is timeout(1)'s: this busybox build's `wget -T` crashes.
CLIENT = """\
end=$(( $(date +%s) + {seconds} ))
i=0
while [ $i -lt {requests} ] && [ $(date +%s) -lt $end ]; do
  i=$((i+1))
  set -- $(nslookup tasks.web 2>/dev/null | sed -n 's/^Address: *\\([0-9.]*\\)$/\\1/p')
  if [ $# -eq 0 ]; then echo fail; usleep {pause_us}; continue; fi
  shift $(( i % $# ))
  if body=$(timeout 2 wget -q -O - "http://$1:8080/version" 2>/dev/null); then
    echo "ok $body"
  else
    echo "fail $1"
  fi
  [ -f /tmp/stop ] && break
  usleep {pause_us}
done
echo done
"""


def build(client: docker.DockerClient, base: str, image: str, version: str, drain: float) -> str:
    files = {
        "Dockerfile": DOCKERFILE.format(base=base),
        "start.sh": START.format(drain=f"{drain:g}"),
        "www/version": json.dumps({"version": version}) + "\n",
        "www/health": "ok\n",
    }
    client.images.build(fileobj=context_tar(files), custom_context=True, tag=f"{image}:{version}")
    output = client.images.push(image, tag=version)
    if '"error"' in output:
        raise SystemExit(f"push failed: {output}")
    return f"{image}:{version}"


def relkit(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relkit", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", default="127.0.0.1:5000")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--drain", type=float, default=2.0)
    parser.add_argument("--pause-ms", type=int, default=10, help="between two requests")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()

    client = docker.from_env(timeout=300)
    uid = uuid.uuid4().hex[:8]
    image = f"{options.registry}/relkit-bench-{uid}/web"
    stack = f"relkit-zd-{uid}"
    base = ensure_busybox_image(client)
    workdir = Path(tempfile.mkdtemp(prefix="relkit-zd-"))
    (workdir / "docker-compose.yml").write_text(COMPOSE.format(image=image))
    (workdir / "relkit.toml").write_text(RELKIT_TOML.format(image=image, stack=stack))
    client_container = None
    try:
        subprocess.run(["git", "init", "-q"], cwd=workdir, check=True)
        for version in ("1.0.0", "2.0.0"):
            build(client, base, image, version, options.drain)
        first = relkit(workdir, "deploy", "bench", "--version", "1.0.0")
        if first.returncode != 0:
            raise SystemExit(f"deploy 1.0.0 failed:\n{first.stderr}")
        script = CLIENT.format(
            requests=options.requests, seconds=options.seconds, pause_us=options.pause_ms * 1000
        )
        client_container = client.containers.run(
            base, ["sh", "-c", script], network=f"{stack}_default", detach=True
        )
        time.sleep(2)
        started = time.monotonic()
        second = relkit(workdir, "deploy", "bench", "--version", "2.0.0")
        deploy_seconds = time.monotonic() - started
        if second.returncode != 0:
            raise SystemExit(f"deploy 2.0.0 failed:\n{second.stderr}")
        time.sleep(2)
        try:
            client_container.exec_run(["touch", "/tmp/stop"])
        except docker.errors.APIError:
            pass  # the loop already ended (its bound was reached)
        client_container.wait(timeout=options.seconds + 30)
        lines = client_container.logs().decode().splitlines()
        answers = [line for line in lines if line.startswith(("ok", "fail"))]
        failed = sum(1 for line in answers if line.startswith("fail"))
        versions: dict[str, int] = {}
        for line in answers:
            if line.startswith("ok "):
                version = json.loads(line[3:])["version"]
                versions[version] = versions.get(version, 0) + 1
        result = {
            "failed": failed,
            "total": len(answers),
            "versions": versions,
            "deploy_seconds": round(deploy_seconds, 1),
            "replicas": 2,
            "order": "start-first",
            "drain_seconds": options.drain,
        }
        if options.json:
            print(json.dumps(result))
        else:
            print(
                f"failed/total: {failed}/{len(answers)}  versions: {versions}"
                f"  deploy: {deploy_seconds:.1f}s  (2 replicas, start-first, drain"
                f" {options.drain:g}s)"
            )
        return 0 if failed == 0 else 1
    finally:
        if client_container is not None:
            client_container.remove(force=True)
        subprocess.run(["docker", "stack", "rm", stack], capture_output=True, check=False)
        relkit_state_cleanup(client, stack)
        for version in ("1.0.0", "2.0.0"):
            try:
                client.images.remove(f"{image}:{version}", force=True)
            except docker.errors.APIError:
                pass


def relkit_state_cleanup(client: docker.DockerClient, stack: str) -> None:
    from relkit.docker.swarm_state import SwarmStore

    SwarmStore(client).remove_all(stack)


if __name__ == "__main__":
    raise SystemExit(main())
