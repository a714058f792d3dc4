"""Sampling the server with py-spy during the measured phase, and summarizing the samples.

`py-spy record --format raw` writes one line per distinct stack: `frame;frame;... count`,
root first, each frame `function (path:line)`. The summary gives, as shares of all
samples: time by package of the leaf frame, the hottest leaf functions (self time), the
project functions with most time under them (inclusive), and the innermost project
function on each stack (what in ledger/, api/, projections/ caused the library time).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_PROCESS = re.compile(r'^(?:process \d+:".*?";)+')  # --subprocesses: the command line comes first
_FRAME = re.compile(r"^(?P<func>.*) \((?P<path>.*?)(?::(?P<line>\d+))?\)$")
PROJECT = ("ledger/", "api/", "projections/")
ROOT = Path(__file__).resolve().parents[2]  # paths below it are shown relative
_PACKAGES = (
    ("eventsourcing", "eventsourcing"),
    ("psycopg_pool", "psycopg (pool)"),
    ("psycopg", "psycopg"),
    ("pydantic", "pydantic"),
    ("fastapi", "fastapi"),
    ("starlette", "starlette"),
    ("anyio", "anyio (threadpool)"),
    ("uvicorn", "uvicorn"),
    ("httptools", "uvicorn"),
    ("uvloop", "uvloop"),
    ("asyncio", "asyncio"),
    ("structlog", "structlog"),
    ("prometheus_client", "prometheus_client"),
    ("orjson", "orjson"),
    ("ledger/", "ledger (project)"),
    ("api/", "api (project)"),
    ("projections/", "projections (project)"),
    ("threading.py", "threading"),
    ("concurrent/", "threading"),
    ("queue.py", "threading"),
    ("json/", "json"),
    ("decimal", "decimal"),
    ("uuid.py", "uuid"),
)


# What a sample was doing: the first rule with a frame whose function name ends with
# `function` and whose path starts with `path`.
COMPONENTS: tuple[tuple[str, str, str], ...] = (
    (
        "projector thread: reading new events (ListenNotifySubscription)",
        "ListenNotifySubscription._loop_on_pull",
        "eventsourcing/",
    ),
    ("projector thread: projecting (Projectors._lead)", "Projectors._lead", "projections/"),
    ("finalize: the ledger command (ledger/...finalize_invoice)", ".finalize_invoice", "ledger/"),
    ("finalize: rest of the route (InvoiceOut.of, json_response)", "finalize_invoice", "api/"),
    ("draft: the ledger command (ledger/...draft_invoice)", ".draft_invoice", "ledger/"),
    ("draft: rest of the route (InvoiceOut.of, json_response)", "draft_invoice", "api/"),
    ("authentication dependency (api/auth.py authenticate)", "authenticate", "api/auth.py"),
    ("commands dependency (api/commands.py: body, sha256)", "commands", "api/commands.py"),
    ("request parsing and validation (FastAPI, pydantic)", "solve_dependencies", "fastapi/"),
    ("middleware: prometheus_client metrics", "", "prometheus_client/"),
    ("middleware: structlog", "", "structlog/"),
    ("middleware: RequestContext and all under it on the loop", "RequestContext.__call__", "api/"),
    ("anyio threadpool hand-off", "", "anyio/"),
    ("uvicorn, uvloop and asyncio", "Runner.run", "asyncio/"),
)


def component_of(frames: list[Frame]) -> str:
    if not frames[0].func.startswith(("Thread._bootstrap", "_run_module_as_main", "<module>")):
        return "(stack cut short by the sampler)"
    for name, func, path in COMPONENTS:
        for frame in frames:
            if frame.func.endswith(func) and frame.path.startswith(path):
                return name
    return "other"


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


class Sampler:
    """`py-spy record` attached to a process tree until `stop()`."""

    def __init__(self, pid: int, output: Path, rate: int = 100, gil_only: bool = True) -> None:
        executable = py_spy()
        if executable is None:
            raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
        self.output = output
        command = [
            executable,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",  # pausing the server for each sample stalled requests for seconds
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--output",
            str(output),
        ]
        if gil_only:
            command.append("--gil")
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.output.exists():
            error = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(f"py-spy wrote no profile: {error[-500:]}")


@dataclass(frozen=True)
class Frame:
    func: str
    path: str

    @property
    def name(self) -> str:
        return f"{self.func} ({self.path})"

    @property
    def in_project(self) -> bool:
        return self.path.startswith(PROJECT) and "site-packages" not in self.path


def _frame(text: str) -> Frame:
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "")
    return Frame(match["func"], _short(match["path"]))


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", f"{ROOT}/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def package_of(frame: Frame) -> str:
    for needle, name in _PACKAGES:
        if frame.path.startswith(needle) or f"/{needle}" in frame.path:
            return name
    return frame.path.split("/", 1)[0] or frame.func


@dataclass
class Profile:
    total: int
    by_package: Counter[str]
    self_time: Counter[str]
    inclusive_project: Counter[str]
    innermost_project: Counter[str]
    components: Counter[str]


def load(path: Path) -> Profile:
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    innermost: Counter[str] = Counter()
    components: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in _PROCESS.sub("", stack).split(";")]
        if not frames:
            continue
        total += count
        components[component_of(frames)] += count
        leaf = frames[-1]
        by_package[package_of(leaf)] += count
        self_time[leaf.name] += count
        project = [f for f in frames if f.in_project]
        for name in {f.name for f in project}:
            inclusive[name] += count
        owner = project[-1].name if project else f"(no project frame: {package_of(frames[0])})"
        innermost[owner] += count
    return Profile(total, by_package, self_time, inclusive, innermost, components)


def report(profile: Profile, top: int = 15) -> list[str]:
    def table(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"  {title}"]
        for name, count in counter.most_common(top):
            rows.append(f"    {100 * count / profile.total:5.1f}%  {name}")
        return rows

    lines = [f"py-spy: {profile.total} samples of the server thread holding the GIL"]
    lines += table("by component (first match on the stack)", profile.components)
    lines += table("by package of the running frame (self time)", profile.by_package)
    lines += table("hottest functions (self time)", profile.self_time)
    lines += table(
        "project functions, time under them (inclusive; nested ones overlap)",
        profile.inclusive_project,
    )
    lines += table(
        "innermost project frame of each sample (project code + the library code it calls)",
        profile.innermost_project,
    )
    return lines
