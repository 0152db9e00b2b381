"""Progress of a long job (import, export) on stderr, honest about what is known.

On a terminal: a bar redrawn every second — records (an import: stored, and queued between reading and
storing), megabytes read (of how many), the rate and the time left; the bar is full only at the end.
Elsewhere (a log, CI): one line every ``LINE_SECONDS`` with the same numbers, and nothing at all for jobs
that end sooner. The numbers are set by the job as it goes (``advance``); the clock, not the job, decides
when they are shown, so a job that is busy committing still shows its rate falling rather than freezing.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

LINE_SECONDS = 5.0
MEGABYTE = 1_000_000


def duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class JobProgress:
    """``with JobProgress(console, "import x.gz", total_bytes=size) as progress: progress.advance(...)``."""

    def __init__(
        self,
        console: Console,
        label: str,
        total_bytes: int | None = None,
        total_records: int | None = None,
        noun: str = "records",
        line_seconds: float = LINE_SECONDS,
    ) -> None:
        self.console = console
        self.label = label
        self.total_bytes = total_bytes or None
        self.total_records = total_records
        self.noun = noun
        self.line_seconds = line_seconds
        self.records = 0
        self.bytes = 0
        self.stored: int | None = None  # of the records, those committed (None: the job does not say)
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Progress | None = None
        self._task = 0

    # -- the job's side ---------------------------------------------------------------------------------

    def advance(self, records: int = 0, bytes_done: int | None = None, new_bytes: int = 0) -> None:
        """Count ``records`` more, and set (``bytes_done``) or add to (``new_bytes``) the bytes done."""
        self.records += records
        self.bytes = bytes_done if bytes_done is not None else self.bytes + new_bytes

    # -- what is shown ----------------------------------------------------------------------------------

    def fraction(self) -> float | None:
        """How much of the job is done. When the job says what it has stored, that is what counts: the share
        read, times the share of what was read that is stored (reading runs ahead of storing), so it reaches
        1 only when the last record read is stored."""
        if self.total_records:
            done = self.records / self.total_records
        elif self.total_bytes:
            done = self.bytes / self.total_bytes
        else:
            return None
        if self.stored is not None and self.records:
            done *= self.stored / self.records
        return min(1.0, done)

    def facts(self) -> str:
        """records (of total; stored and queued, when the job says), MB (of total), rate, time left."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        of_total = f" of {self.total_records:,}" if self.total_records else ""
        if self.stored is None:
            parts = [f"{self.records:,}{of_total} {self.noun}"]
        else:
            parts = [f"{self.stored:,}{of_total} {self.noun} stored, {self.records - self.stored:,} queued"]
        if self.bytes or self.total_bytes:
            size = f"{self.bytes / MEGABYTE:,.1f}"
            parts.append(size + (f" of {self.total_bytes / MEGABYTE:,.1f}" if self.total_bytes else "") + " MB read")
        done = self.records if self.stored is None else self.stored
        parts.append(f"{done / elapsed:,.0f} {self.noun}/s")
        fraction = self.fraction()
        if fraction is not None and 0 < fraction < 1:
            left = elapsed * (1 - fraction) / fraction
            parts.append(f"{duration(left)} left")
        parts.append(f"{duration(elapsed)} elapsed")
        return ", ".join(parts)

    def percent(self) -> str:
        fraction = self.fraction()
        return f"{100 * fraction:.0f}% " if fraction is not None else ""

    def line(self) -> str:
        return f"{self.label}: {self.percent()}{self.facts()}"

    # -- running ----------------------------------------------------------------------------------------

    def __enter__(self) -> JobProgress:
        self.started = time.monotonic()
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[facts]}"),
                console=self.console,
                refresh_per_second=1,
                transient=False,
            )
            self._bar.start()
            known = self.fraction() is not None
            self._task = self._bar.add_task(self.label, total=100 if known else None, facts=self.facts())
        self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._thread.start()
        return self

    def _tick(self) -> None:
        interval = 1.0 if self._bar is not None else self.line_seconds
        while not self._stop.wait(interval):
            self.show()

    def show(self) -> None:
        if self._bar is not None:
            fraction = self.fraction()
            self._bar.update(self._task, completed=100 * (fraction or 0), facts=self.percent() + self.facts())
        else:
            self.console.print(self.line(), highlight=False, markup=False, soft_wrap=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            if kind is None:
                self._bar.update(self._task, total=100, completed=100, facts="done: " + self.facts())
            self._bar.stop()
