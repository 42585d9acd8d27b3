"""Progress bars for long commands, shown only when a person watches (standard error is a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.imports import Progress as ProgressCallback


@contextmanager
def import_progress(path: Path) -> Iterator[ProgressCallback]:
    console = Console(stderr=True)
    if not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    bar = Progress(
        TextColumn(f"[bold]{path.name}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    with bar:
        yield update
