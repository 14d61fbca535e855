# relkit's own image, for CI runners: `docker run --rm -v "$PWD:/work" relkit version`.
#
# BASE_IMAGE must have python3 with venv support (python:3.12-slim by default;
# the tests pass a locally built Debian image). Offline builds: put a
# wheelhouse (`pip wheel . hatchling -w wheelhouse`) in the context and pass
# --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/src/wheelhouse.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ARG PIP_NO_INDEX=
ARG PIP_FIND_LINKS=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
# Build relkit's wheel (and its dependencies'), install them into a venv that
# the runtime stage copies: no compiler, wheel or pip cache reaches it.
RUN python3 -m venv /opt/relkit \
 && /opt/relkit/bin/pip wheel --wheel-dir /wheels . \
 && /opt/relkit/bin/pip install --no-index --find-links=/wheels relkit

FROM ${BASE_IMAGE}
ARG VERSION=0.0.0
ARG GIT_SHA=unknown
ARG BUILD_DATE=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="relkit" \
      org.opencontainers.image.description="Release engineering for containerised service stacks" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/relkit/relkit" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.created="${BUILD_DATE}"
ENV PATH=/opt/relkit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
SHELL ["/bin/sh", "-eu", "-c"]
# relkit drives git. Bases without it get Debian's (its version follows the
# base image's release, so it is not pinned here); a mounted repository owned
# by another uid is trusted, as in any CI checkout.
# hadolint ignore=DL3008
RUN if ! command -v git >/dev/null; then \
      apt-get update; \
      apt-get install -y --no-install-recommends git; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    git config --system --add safe.directory '*'; \
    groupadd --system --gid 10001 relkit; \
    useradd --system --no-log-init --uid 10001 --gid 10001 --create-home \
      --home-dir /home/relkit relkit
COPY --from=build /opt/relkit /opt/relkit
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["relkit"]
CMD ["--help"]
