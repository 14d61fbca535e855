"""Hypothesis strategies that generate version text for both schemes."""

from __future__ import annotations

from hypothesis import strategies as st

_IDENT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"

# Small numbers collide often (equal cores exercise the pre-release rules);
# huge ones check that nothing is limited to machine integers.
numbers = st.one_of(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 10**25))

numeric_identifiers = st.integers(0, 30).map(str)
alphanumeric_identifiers = st.one_of(
    st.sampled_from(["alpha", "beta", "rc", "a", "b", "x-y", "-", "0a", "A"]),
    st.text(_IDENT_CHARS, min_size=1, max_size=6).filter(lambda s: not s.isdigit()),
)
prerelease_identifiers = st.one_of(numeric_identifiers, alphanumeric_identifiers)
build_identifiers = st.text(_IDENT_CHARS, min_size=1, max_size=6)


@st.composite
def semver_texts(draw: st.DrawFn, build: bool = True) -> str:
    """Any valid SemVer 2.0.0 text."""
    text = f"{draw(numbers)}.{draw(numbers)}.{draw(numbers)}"
    pre = draw(st.lists(prerelease_identifiers, max_size=4))
    if pre:
        text += "-" + ".".join(pre)
    if build:
        meta = draw(st.lists(build_identifiers, max_size=3))
        if meta:
            text += "+" + ".".join(meta)
    return text


@st.composite
def labelled_semver_texts(draw: st.DrawFn) -> str:
    """SemVer text whose pre-release, if any, is the LABEL.N kind that bump understands."""
    text = f"{draw(numbers)}.{draw(numbers)}.{draw(numbers)}"
    if draw(st.booleans()):
        text += f"-{draw(st.sampled_from(['alpha', 'beta', 'rc']))}.{draw(st.integers(0, 20))}"
    return text


@st.composite
def pep440_texts(draw: st.DrawFn) -> str:
    """Valid PEP 440 text in normalised form: epoch, 1-4 release parts, pre, post, dev, local."""
    small = st.integers(0, 12)
    text = ""
    if draw(st.integers(0, 9)) == 0:
        text += f"{draw(st.integers(1, 3))}!"
    text += ".".join(str(n) for n in draw(st.lists(small, min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += f"{draw(st.sampled_from(['a', 'b', 'rc']))}{draw(small)}"
    if draw(st.integers(0, 3)) == 0:
        text += f".post{draw(small)}"
    if draw(st.integers(0, 3)) == 0:
        text += f".dev{draw(small)}"
    if draw(st.integers(0, 5)) == 0:
        local = draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=1, max_size=2))
        text += "+" + ".".join(local)
    return text
