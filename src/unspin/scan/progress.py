"""Progress for long scans: a rich bar on a terminal, plain log lines otherwise.

Both show documents done / total, documents per second and the ETA. Plain
lines go to stderr at most every ``interval`` seconds (and at the end), so a
log file of a day-long scan stays readable.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol


class Reporter(Protocol):
    def start(self, phase: str, total: int, done: int = 0) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


def _eta(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


class PlainReporter:
    """One line per ``interval`` seconds on stderr."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self.phase = ""
        self.total = 0
        self.done = 0
        self.started = 0.0
        self.last = 0.0
        self.base = 0
        self.last_done = -1

    def start(self, phase: str, total: int, done: int = 0) -> None:
        self.phase, self.total, self.done, self.base = phase, total, done, done
        self.started = self.last = time.monotonic()
        self._line(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self._line(force=False)

    def _line(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval and self.done < self.total:
            return
        self.last = now
        self.last_done = self.done
        elapsed = max(now - self.started, 1e-9)
        rate = (self.done - self.base) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        sys.stderr.write(f"unspin {self.phase}: {self.done}/{self.total} docs ({pct:.0f}%), "
                         f"{rate:.1f} docs/s, ETA {_eta(left)}\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.last_done != self.done:
            self._line(force=True)


class RichReporter:
    """A rich progress bar with docs/s and ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress: Any = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TextColumn("{task.fields[rate]} docs/s"),
            TextColumn("ETA"), TimeRemainingColumn(), transient=False,
            console=Console(stderr=True),
        )
        self.task: Any = None
        self.started = 0.0
        self.base = 0
        self.done = 0

    def start(self, phase: str, total: int, done: int = 0) -> None:
        if self.task is None:
            self.progress.start()
        else:
            self.progress.stop_task(self.task)
        self.task = self.progress.add_task(phase, total=total, completed=done, rate="-")
        self.started, self.base, self.done = time.monotonic(), done, done

    def advance(self, n: int) -> None:
        self.done += n
        rate = (self.done - self.base) / max(time.monotonic() - self.started, 1e-9)
        self.progress.update(self.task, advance=n, rate=f"{rate:.1f}")

    def finish(self) -> None:
        if self.task is not None:
            self.progress.stop()


class SilentReporter:
    def start(self, phase: str, total: int, done: int = 0) -> None:
        return None

    def advance(self, n: int) -> None:
        return None

    def finish(self) -> None:
        return None


def reporter(quiet: bool) -> Reporter:
    """Rich bar on a TTY, plain lines with ``quiet`` or when stderr is not a TTY."""
    if quiet or not sys.stderr.isatty():
        return PlainReporter()
    return RichReporter()
