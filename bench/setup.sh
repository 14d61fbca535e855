#!/usr/bin/env bash
# Create bench/.venv with the peer tools and relkit (editable, from the repo root).
# Usage: bash bench/setup.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip

# Peer tools, latest releases from PyPI. Pin here to freeze a comparison.
"$venv/bin/python" -m pip install --quiet \
    git-cliff \
    commitizen \
    python-semantic-release \
    bump-my-version \
    towncrier

# relkit itself, editable, so the benchmark measures the working tree. A relkit
# that does not install yet must not stop the peers' side of the benchmark.
if ! "$venv/bin/python" -m pip install --quiet -e "$root"; then
    echo "warning: relkit did not install from $root; run.py shows its rows as n/a" >&2
fi

echo "bench venv: $venv"
"$venv/bin/python" --version
for pkg in relkit git-cliff commitizen python-semantic-release bump-my-version towncrier; do
    printf '%-24s %s\n' "$pkg" "$("$venv/bin/python" -m pip show "$pkg" 2>/dev/null | sed -n 's/^Version: //p')"
done
printf '%-24s %s\n' git "$(git --version | sed 's/^git version //')"
if command -v hyperfine >/dev/null 2>&1; then
    printf '%-24s %s\n' hyperfine "$(hyperfine --version | sed 's/^hyperfine //')"
else
    echo "hyperfine: not found (run.py falls back to its own timer)"
fi
