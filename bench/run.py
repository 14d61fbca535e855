"""Benchmark relkit against peer release tools on generated repositories.

    bash bench/setup.sh && bench/.venv/bin/python bench/run.py
    bench/.venv/bin/python bench/run.py --bench startup,next --runs 5

Each command first runs once as a probe (timeout, exit code, peak memory, output
size, last error line). A command whose probe fails is recorded as failed (or
"n/a" when relkit does not have the command yet) and not timed; the others are
timed with hyperfine (median of several runs; own timer with --no-hyperfine or
when hyperfine is missing). Results go to bench/out/ as JSON and to stdout as
markdown tables, with ratios relative to relkit and the targets from README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ("startup", "next", "changelog")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# What each tool's changelog output contains on the generated history (checked
# by reading the outputs; see README.md).
INCLUDES = {
    "relkit": "feat, fix, perf, refactor, revert, security, breaking first; "
    "drops docs/chore/style/test/ci/build (output: a diff of CHANGELOG.md)",
    "cz": "feat, fix, refactor, perf, BREAKING CHANGE; drops docs/chore/style/test/ci/build/revert",
    "semantic-release": "every conventional type except revert; drops non-conventional",
    "git-cliff": "every conventional type (build under Other), revert; drops non-conventional",
    "git": "raw log of every commit (floor: no parsing, no rendering)",
}

COMMITIZEN = """
[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "pep621"
tag_format = "v$version"
major_version_zero = false
update_changelog_on_bump = false
"""
SEMANTIC_RELEASE = """
[tool.semantic_release]
version_toml = ["pyproject.toml:project.version"]
tag_format = "v{version}"
commit_parser = "conventional"
allow_zero_version = true
major_on_zero = true

[tool.semantic_release.branches.main]
match = "main"

[tool.semantic_release.changelog]
mode = "init"
default_templates = { changelog_file = "CHANGELOG.md" }
"""
RELKIT = """
[tool.relkit]
scheme = "semver"
tag_format = "v{version}"
changelog = "CHANGELOG.md"
"""


@dataclass
class Case:
    group: str
    name: str
    tool: str
    argv: list[str]
    cwd: Path
    prepare: list[str] | None = None
    baseline: bool = False  # the relkit row that ratios in this group refer to
    includes: str = ""
    output_file: str | None = None  # a tool that writes its output: count that file's lines


@dataclass
class Result:
    group: str
    name: str
    tool: str
    command: str
    status: str  # ok, failed, n/a, timeout, missing
    error: str = ""
    median_s: float | None = None
    mean_s: float | None = None
    stddev_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    runs: int = 0
    max_rss_kib: int | None = None  # largest process of the tree (GNU time, else wait4)
    main_rss_kib: int | None = None  # the command's own process, sampled from /proc
    stdout_lines: int | None = None
    ratio: float | None = None
    includes: str = ""
    timer: str = ""
    times_s: list[float] = field(default_factory=list)


# ---------------------------------------------------------------- repositories


def generator_key() -> str:
    return hashlib.sha256((HERE / "gen_repo.py").read_bytes()).hexdigest()[:10]


def base_repo(out: Path, commits: int, tag_every: int, seed: int) -> Path:
    """A generated repository, cached under out/repos by parameters and generator hash."""
    path = out / "repos" / f"base-c{commits}-t{tag_every}-s{seed}-{generator_key()}"
    if not (path / ".git").is_dir():
        for kind in ("base", "work"):  # made by an older generator
            for stale in path.parent.glob(f"{kind}-c{commits}-t{tag_every}-s{seed}-*"):
                shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(path, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_repo.py"),
                str(path),
                "--commits",
                str(commits),
                "--tag-every",
                str(tag_every),
                "--seed",
                str(seed),
            ],
            check=True,
        )
        log(f"generated {path.name} in {time.perf_counter() - started:.1f}s")
    return path


def work_repo(base: Path, tools: dict[str, Path | None]) -> Path:
    """A fresh copy of base with every tool's configuration written (uncommitted)."""
    path = base.parent / base.name.replace("base-", "work-", 1)
    shutil.rmtree(path, ignore_errors=True)
    shutil.copytree(base, path, symlinks=True)
    with (path / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(RELKIT + COMMITIZEN + SEMANTIC_RELEASE)
    # semantic-release reads the remote to build links; nothing is pushed.
    git(path, "remote", "add", "origin", "https://github.com/example/bench-service.git")
    if tools.get("git-cliff"):
        # git-cliff's own default configuration, written out so the run is explicit.
        subprocess.run([str(tools["git-cliff"]), "--init"], cwd=path, capture_output=True)
    return path


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


# ---------------------------------------------------------------- measuring


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="100",
        PYTHONDONTWRITEBYTECODE="1",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


class PeakWatcher(threading.Thread):
    """Samples VmHWM (peak resident memory) of one process from /proc.

    wait4's ru_maxrss is the largest process of the tree: for a tool that runs
    `git log`, that can be git. The main process's own peak shows whether the
    tool itself holds the history in memory. The last few milliseconds before
    exit are not sampled.
    """

    def __init__(self, pid: int, wrapped: bool) -> None:
        super().__init__(daemon=True)
        self.pid, self.wrapped = pid, wrapped  # wrapped: pid is /usr/bin/time's
        self.peak_kib, self.done = 0, threading.Event()

    def run(self) -> None:
        pid = self.pid
        while self.wrapped and not self.done.is_set():
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                return
            if children:
                pid = int(children[0])
                break
            self.done.wait(0.001)
        status = Path(f"/proc/{pid}/status")
        while not self.done.is_set():
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except (OSError, ValueError):
                return
            self.done.wait(0.005)


def probe(case: Case, timeout: float) -> tuple[str, str, float, int, int, int]:
    """Run once. Returns (status, error line, seconds, max RSS KiB of the process
    tree, stdout lines, sampled peak KiB of the main process)."""
    if case.prepare:
        subprocess.run(case.prepare, cwd=case.cwd, capture_output=True)
    # GNU time reports the tree's peak from a small parent; wait4 from this
    # Python process would count this process's own size at fork as a floor.
    time_bin = shutil.which("time")
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as peak,
    ):
        argv = [time_bin, "-f", "%M", "-o", peak.name, *case.argv] if time_bin else case.argv
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            cwd=case.cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=bench_env(),
            start_new_session=True,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        watcher = PeakWatcher(proc.pid, wrapped=bool(time_bin))
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        timer.cancel()
        watcher.done.set()
        watcher.join()
        own = watcher.peak_kib
        tree = usage.ru_maxrss
        if time_bin:
            reported = peak.read().split()
            tree = int(reported[-1]) if reported and reported[-1].isdigit() else tree
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().count(b"\n")
        err.seek(0)
        error = last_line(err.read()) or ""
        if timed_out.is_set():
            return "timeout", f"killed after {timeout:.0f}s", elapsed, tree, lines, own
        if proc.returncode != 0:
            if not error:
                out.seek(0)
                error = last_line(out.read()) or ""
            return "failed", f"exit {proc.returncode}: {error}", elapsed, tree, lines, own
        return "ok", "", elapsed, tree, lines, own


def last_line(data: bytes) -> str | None:
    for line in reversed(data.decode("utf-8", "replace").splitlines()):
        line = ANSI.sub("", line).strip()
        if line:
            return line[:300]
    return None


def plan_runs(seconds: float, max_runs: int) -> tuple[int, int]:
    """(runs, warmup) from a probe's duration: many runs for fast commands, 3 for slow."""
    if seconds < 0.5:
        return max_runs, 2
    if seconds < 5:
        return max(3, min(max_runs, 5)), 1
    return 3, 0


def time_hyperfine(case: Case, runs: int, warmup: int, timeout: float) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "result.json"
        cmd = [
            "hyperfine",
            "--shell=none",
            "--style=none",
            "--runs",
            str(runs),
            "--warmup",
            str(warmup),
            "--export-json",
            str(export),
        ]
        if case.prepare:
            cmd += ["--prepare", shlex.join(case.prepare)]
        cmd += ["--", shlex.join(case.argv)]
        subprocess.run(
            cmd,
            cwd=case.cwd,
            env=bench_env(),
            check=True,
            capture_output=True,
            timeout=timeout * (runs + warmup) + 60,
        )
        data = json.loads(export.read_text())
        return list(data["results"][0]["times"])


def time_own(case: Case, runs: int, warmup: int, timeout: float) -> list[float]:
    times = []
    for i in range(runs + warmup):
        if case.prepare:
            subprocess.run(case.prepare, cwd=case.cwd, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            case.argv,
            cwd=case.cwd,
            env=bench_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=timeout,
        )
        if i >= warmup:
            times.append(time.perf_counter() - started)
    return times


def measure(case: Case, args: argparse.Namespace) -> Result:
    shown = " ".join(shlex.quote(a) for a in display_argv(case.argv))
    result = Result(case.group, case.name, case.tool, shown, "ok", includes=case.includes)
    if not Path(case.argv[0]).exists() and not shutil.which(case.argv[0]):
        result.status, result.error = "missing", f"{case.argv[0]} not installed"
        return result
    log(f"[{case.group}] {case.name}: probe")
    status, error, seconds, rss, lines, own = probe(case, args.timeout)
    result.max_rss_kib, result.stdout_lines, result.main_rss_kib = rss, lines, own or None
    if status == "ok" and case.output_file:
        written = case.cwd / case.output_file
        result.stdout_lines = written.read_bytes().count(b"\n") if written.exists() else None
    if status != "ok":
        result.status, result.error = status, error
        if case.tool == "relkit" and status == "failed":
            result.status = "n/a"  # not implemented yet, or broken: shown, never timed
        return result
    if seconds >= args.slow:
        # One run is all a very slow command gets: the probe is the measurement.
        result.times_s, result.runs, result.timer = [seconds], 1, "probe"
        result.median_s = result.mean_s = result.min_s = result.max_s = seconds
        result.stddev_s = 0.0
        log(f"[{case.group}] {case.name}: {seconds:.1f}s, one run (slower than --slow)")
        return result
    runs, warmup = plan_runs(seconds, args.runs)
    use_hyperfine = not args.no_hyperfine and shutil.which("hyperfine")
    try:
        if use_hyperfine:
            times = time_hyperfine(case, runs, warmup, args.timeout)
            result.timer = "hyperfine"
        else:
            times = time_own(case, runs, warmup, args.timeout)
            result.timer = "perf_counter"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        result.status, result.error = "failed", f"timing run failed: {exc}"[:300]
        return result
    result.times_s = times
    result.runs = len(times)
    result.median_s = statistics.median(times)
    result.mean_s = statistics.fmean(times)
    result.stddev_s = statistics.stdev(times) if len(times) > 1 else 0.0
    result.min_s, result.max_s = min(times), max(times)
    log(f"[{case.group}] {case.name}: median {result.median_s:.3f}s over {len(times)} runs")
    return result


def display_argv(argv: list[str]) -> list[str]:
    """Commands as a reader would type them: tool names, not this machine's paths."""
    shown = [Path(argv[0]).name, *argv[1:]]
    if shown[0].startswith("python"):
        shown[0] = "python"
    return shown


# ---------------------------------------------------------------- cases


def find_tools(args: argparse.Namespace) -> dict[str, Path | None]:
    bindir = Path(sys.executable).parent

    def find(name: str) -> Path | None:
        local = bindir / name
        if local.exists():
            return local
        found = shutil.which(name)
        return Path(found) if found else None

    tools = {
        name: find(name)
        for name in ("cz", "semantic-release", "git-cliff", "towncrier", "bump-my-version", "git")
    }
    tools["relkit"] = Path(args.relkit) if args.relkit else find("relkit")
    return tools


def compile_relkit(tools: dict[str, Path | None]) -> None:
    """Byte-compile relkit's modules, as installing a wheel does.

    pip compiled the peers when it installed them; relkit is installed editable
    (the working tree is what is measured) and the runs below set
    PYTHONDONTWRITEBYTECODE, so without this every run of relkit would compile
    its modules again.
    """
    exe = tools.get("relkit")
    python = exe.parent / "python" if exe is not None else None
    if python is None or not python.exists():
        return
    code = (
        "import compileall, os, relkit;"
        "compileall.compile_dir(os.path.dirname(relkit.__file__), quiet=1)"
    )
    subprocess.run([str(python), "-c", code], check=False)


def startup_cases(tools: dict[str, Path | None], repo: Path) -> list[Case]:
    def exe(name: str) -> str:
        return str(tools[name] or name)

    g = "startup"
    return [
        Case(g, "python -c pass", "python", [sys.executable, "-c", "pass"], repo),
        Case(g, "relkit --help", "relkit", [exe("relkit"), "--help"], repo, baseline=True),
        Case(g, "relkit version", "relkit", [exe("relkit"), "version"], repo),
        Case(g, "towncrier --help", "towncrier", [exe("towncrier"), "--help"], repo),
        Case(g, "cz --help", "cz", [exe("cz"), "--help"], repo),
        Case(
            g, "bump-my-version --help", "bump-my-version", [exe("bump-my-version"), "--help"], repo
        ),
        Case(
            g,
            "semantic-release --help",
            "semantic-release",
            [exe("semantic-release"), "--help"],
            repo,
        ),
        Case(g, "git-cliff --help", "git-cliff", [exe("git-cliff"), "--help"], repo),
    ]


def next_cases(tools: dict[str, Path | None], repo: Path, label: str) -> list[Case]:
    def exe(name: str) -> str:
        return str(tools[name] or name)

    g = f"next-version {label}"
    return [
        Case(
            g,
            "relkit version --next auto",
            "relkit",
            [exe("relkit"), "version", "--next", "auto"],
            repo,
            baseline=True,
        ),
        Case(g, "cz bump --get-next", "cz", [exe("cz"), "bump", "--get-next"], repo),
        Case(
            g,
            "semantic-release version --print",
            "semantic-release",
            [exe("semantic-release"), "version", "--print"],
            repo,
        ),
        Case(
            g,
            "git-cliff --unreleased --bumped-version",
            "git-cliff",
            [exe("git-cliff"), "--unreleased", "--bumped-version"],
            repo,
        ),
    ]


def changelog_cases(tools: dict[str, Path | None], repo: Path, label: str) -> list[Case]:
    def exe(name: str) -> str:
        return str(tools[name] or name)

    g = f"changelog {label}"
    restore = ["git", "checkout", "--quiet", "--", "CHANGELOG.md"]
    return [
        Case(
            g,
            "relkit changelog generate --all --dry-run",
            "relkit",
            [exe("relkit"), "changelog", "generate", "--all", "--dry-run"],
            repo,
            baseline=True,
            includes=INCLUDES["relkit"],
        ),
        Case(
            g,
            "cz changelog --dry-run",
            "cz",
            [exe("cz"), "changelog", "--dry-run"],
            repo,
            includes=INCLUDES["cz"],
        ),
        Case(
            g,
            "semantic-release --noop changelog",
            "semantic-release",
            [exe("semantic-release"), "--noop", "changelog"],
            repo,
            includes="parses the history; noop skips rendering and writing",
        ),
        Case(
            g,
            "semantic-release changelog (writes)",
            "semantic-release",
            [exe("semantic-release"), "changelog"],
            repo,
            prepare=restore,
            includes=INCLUDES["semantic-release"],
            output_file="CHANGELOG.md",
        ),
        Case(
            g,
            "git-cliff (whole history)",
            "git-cliff",
            [exe("git-cliff")],
            repo,
            includes=INCLUDES["git-cliff"],
        ),
        Case(
            g,
            "git log floor",
            "git",
            ["git", "log", "--format=%H%x1f%s%x1f%b%x1e"],
            repo,
            includes=INCLUDES["git"],
        ),
    ]


# ---------------------------------------------------------------- report


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_rss(kib: int | None) -> str:
    return "" if kib is None else f"{kib / 1024:.0f} MiB"


def add_ratios(results: list[Result], cases: list[Case]) -> None:
    baseline = {c.group: c.name for c in cases if c.baseline}
    base_time = {r.group: r.median_s for r in results if baseline.get(r.group) == r.name}
    for r in results:
        base = base_time.get(r.group)
        if base and r.median_s is not None:
            r.ratio = r.median_s / base


def markdown(results: list[Result]) -> str:
    lines: list[str] = []
    for group in dict.fromkeys(r.group for r in results):
        rows = [r for r in results if r.group == group]
        memory = group.startswith("changelog")
        lines += [f"### {group}", ""]
        head = "| command | median | ± sd | runs | × relkit |"
        rule = "|---|---:|---:|---:|---:|"
        if memory:
            head += " max RSS tree | max RSS main | output lines | includes |"
            rule += "---:|---:|---:|---|"
        lines += [head, rule]
        for r in rows:
            if r.status == "ok":
                cells = [
                    fmt_time(r.median_s),
                    fmt_time(r.stddev_s),
                    str(r.runs),
                    f"{r.ratio:.2f}" if r.ratio is not None else "n/a",
                ]
            else:
                cells = [f"{r.status}", "", "", ""]
            row = f"| `{r.name}` | " + " | ".join(cells) + " |"
            if memory:
                ok = r.status == "ok"
                rss = fmt_rss(r.max_rss_kib) if ok else ""
                main_rss = fmt_rss(r.main_rss_kib) if ok else ""
                lines_out = str(r.stdout_lines) if ok and r.stdout_lines is not None else ""
                row += f" {rss} | {main_rss} | {lines_out} | {r.includes} |"
            lines.append(row)
        errors = [r for r in rows if r.error]
        if errors:
            lines.append("")
            lines += [f"- `{r.name}`: {r.status}: {r.error}" for r in errors]
        lines.append("")
    return "\n".join(lines)


def targets(results: list[Result]) -> list[tuple[str, str]]:
    """(target, verdict) for each target in README.md that this run can judge."""
    by = {(r.group, r.name): r for r in results}

    def t(group: str, name: str) -> float | None:
        r = by.get((group, name))
        return r.median_s if r and r.status == "ok" else None

    def verdict(value: float | None, limit: float | None, text: str) -> str:
        if value is None or limit is None:
            return "n/a"
        ok = value <= limit
        return f"{'PASS' if ok else 'FAIL'} ({text.format(value=value, limit=limit)})"

    out = []
    town = t("startup", "towncrier --help")
    for name in ("relkit --help", "relkit version"):
        if ("startup", name) in by:
            out.append(
                (
                    f"{name} ≤ towncrier --help",
                    verdict(t("startup", name), town, "{value:.3f}s vs {limit:.3f}s"),
                )
            )
    for group in dict.fromkeys(r.group for r in results):
        if group.startswith("next-version"):
            cz = t(group, "cz bump --get-next")
            out.append(
                (
                    f"[{group}] relkit version --next auto ≤ ½ cz bump --get-next",
                    verdict(
                        t(group, "relkit version --next auto"),
                        cz / 2 if cz else None,
                        "{value:.3f}s vs {limit:.3f}s",
                    ),
                )
            )
        if group.startswith("changelog"):
            rk = t(group, "relkit changelog generate --all --dry-run")
            cz = t(group, "cz changelog --dry-run")
            floor = t(group, "git log floor")
            out.append(
                (
                    f"[{group}] relkit changelog ≤ ⅓ cz changelog --dry-run",
                    verdict(rk, cz / 3 if cz else None, "{value:.3f}s vs {limit:.3f}s"),
                )
            )
            out.append(
                (
                    f"[{group}] relkit changelog ≤ 2× git log floor",
                    verdict(rk, floor * 2 if floor else None, "{value:.3f}s vs {limit:.3f}s"),
                )
            )
    mems = [
        r
        for r in results
        if r.group.startswith("changelog") and r.tool == "relkit" and r.status == "ok"
    ]
    if len(mems) >= 2:
        low, high = mems[0].main_rss_kib or 0, mems[-1].main_rss_kib or 0
        out.append(
            (
                f"relkit changelog memory flat (main process: {mems[-1].group} "
                f"≤ 1.25× {mems[0].group})",
                verdict(high / 1024, low / 1024 * 1.25, "{value:.0f} MiB vs {limit:.0f} MiB"),
            )
        )
    return out


def versions(tools: dict[str, Path | None]) -> dict[str, str]:
    found = {}
    for name, argv in (
        ("relkit", ["--version"]),
        ("cz", ["version"]),
        ("semantic-release", ["--version"]),
        ("git-cliff", ["--version"]),
        ("towncrier", ["--version"]),
        ("bump-my-version", ["--version"]),
        ("git", ["--version"]),
    ):
        path = tools.get(name)
        if not path:
            found[name] = "missing"
            continue
        proc = subprocess.run([str(path), *argv], capture_output=True, text=True, env=bench_env())
        text = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
        found[name] = ANSI.sub("", text[-1]) if proc.returncode == 0 and text else "unknown"
    if shutil.which("hyperfine"):
        found["hyperfine"] = subprocess.run(
            ["hyperfine", "--version"], capture_output=True, text=True
        ).stdout.strip()
    found["python"] = platform.python_version()
    return found


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bench", default=",".join(BENCHES), help=f"comma-separated subset of {','.join(BENCHES)}"
    )
    parser.add_argument(
        "--only",
        default="",
        help="run only commands whose name contains one of these "
        "comma-separated words (e.g. relkit,git log)",
    )
    parser.add_argument("--next-commits", type=int, default=20000)
    parser.add_argument(
        "--changelog-commits",
        default="20000,100000",
        help="comma-separated history sizes for the changelog benchmark",
    )
    parser.add_argument("--tag-every", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--runs", type=int, default=10, help="runs for fast commands (slow ones get 5 or 3)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per command run")
    parser.add_argument(
        "--slow",
        type=float,
        default=60,
        help="a command whose probe takes this many seconds is not re-run",
    )
    parser.add_argument("--relkit", help="relkit executable (default: the one beside python)")
    parser.add_argument("--no-hyperfine", action="store_true", help="time with perf_counter")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    unknown = set(args.bench.split(",")) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark {', '.join(sorted(unknown))}; pick from {BENCHES}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tools = find_tools(args)
    chosen = args.bench.split(",")
    sizes = [int(s) for s in args.changelog_commits.split(",") if s]

    cases: list[Case] = []
    repos: dict[int, Path] = {}

    def repo(commits: int) -> Path:
        if commits not in repos:
            repos[commits] = work_repo(
                base_repo(args.out, commits, args.tag_every, args.seed), tools
            )
        return repos[commits]

    label = f"{args.next_commits // 1000}k commits / {args.next_commits // args.tag_every} tags"
    if "startup" in chosen:
        cases += startup_cases(tools, repo(args.next_commits))
    if "next" in chosen:
        cases += next_cases(tools, repo(args.next_commits), label)
    if "changelog" in chosen:
        for size in sizes:
            cases += changelog_cases(
                tools, repo(size), f"{size // 1000}k commits / {size // args.tag_every} tags"
            )
    if args.only:
        words = [w for w in args.only.split(",") if w]
        cases = [c for c in cases if any(w in c.name for w in words)]

    compile_relkit(tools)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results = []
    for case in cases:
        results.append(measure(case, args))
        if case.prepare:
            subprocess.run(case.prepare, cwd=case.cwd, capture_output=True)  # leave it clean
    add_ratios(results, cases)
    verdicts = targets(results)
    found = versions(tools)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = {
        "date": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv[1:],
        "machine": {
            "system": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "versions": found,
        "repos": {
            "tag_every": args.tag_every,
            "seed": args.seed,
            "generator": generator_key(),
            "sizes": sorted(repos),
        },
        "results": [asdict(r) for r in results],
        "targets": dict(verdicts),
        "children_cpu_s": round(children.ru_utime + children.ru_stime, 2),
    }
    for name in (f"results-{stamp}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(report, indent=2) + "\n")

    print(
        f"## relkit benchmarks ({report['date']}, {os.cpu_count()} CPUs, "
        f"tag every {args.tag_every}, seed {args.seed}; 1-min load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after)\n"
    )
    print(markdown(results))
    if verdicts:
        print("### targets\n")
        print("\n".join(f"- {name}: {v}" for name, v in verdicts))
        print()
    print("### versions\n")
    print("\n".join(f"- {k}: {v}" for k, v in found.items()))
    print(f"\nJSON: {args.out.name}/results-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
