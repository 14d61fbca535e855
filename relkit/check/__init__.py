"""relkit check: preflight and production-readiness findings."""
