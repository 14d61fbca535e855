"""``relkit release``: the whole release as one resumable pipeline."""
