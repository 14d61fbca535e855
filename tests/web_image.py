"""The busybox web image of the deploy and release tests and benches, and how to reach it.

``WEB_DOCKERFILE`` and ``START_SH`` make a web server (busybox httpd on port
8080 serving ``/www``) whose healthcheck fetches ``/health``; ``context_tar``
packs a build context from file texts; ``push_pinned`` pushes a tag and returns
the ``name@sha256:…`` that relkit pins.
"""

from __future__ import annotations

import io
import socket
import tarfile
import urllib.error
import urllib.request

import docker

# Modes of the web image.
GOOD = "good"  # healthy, /version answers its version
UNHEALTHY = "unhealthy"  # no /health: the HEALTHCHECK fails
WRONG_VERSION = "wrong-version"  # healthy, but /version names another version
SLOW = "slow"  # /health appears only after SLOW_SECONDS (start period covers it)
SLOW_SECONDS = 3

# The test's label comes first, so that no build shares cached layers with
# another test's (whose cleanup would pull them from under this one).
WEB_DOCKERFILE = """\
FROM {base}
LABEL {label_key}={label_value}
COPY www/ /www/
COPY start.sh /start.sh
EXPOSE 8080
HEALTHCHECK --interval=1s --timeout=1s --retries=2{start_period} \\
  CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
CMD ["sh", "/start.sh"]
"""

# httpd in the background so that the shell can answer SIGTERM at once.
START_SH = """\
httpd -f -p 8080 -h /www &
pid=$!
trap 'kill $pid; exit 0' TERM INT
{delay}wait
"""
SLOW_DELAY = f"sleep {SLOW_SECONDS} & wait $!\necho ok > /www/health\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def context_tar(files: dict[str, str]) -> io.BytesIO:
    """A build context holding *files* (name -> text), read from the start."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def push_pinned(client: docker.DockerClient, image: str, version: str) -> str:
    """Push ``image:version``; return the ``image@sha256:…`` the registry gave it."""
    output = client.images.push(image, tag=version)
    assert '"error"' not in output, output
    digests = client.images.get(f"{image}:{version}").attrs["RepoDigests"]
    return str(next(d for d in digests if d.split("@")[0] == image))
