"""The Docker adapter: the only package of relkit that imports ``docker``.

It turns docker-py's errors into relkit errors (keeping the engine's message),
streams builds and pushes as small event values (:mod:`relkit.docker.events`)
and returns plain values (ids, digests), never docker-py objects. Import its
modules only inside the commands that need them: ``docker`` pulls in requests
and costs ~100 ms at start-up.
"""
