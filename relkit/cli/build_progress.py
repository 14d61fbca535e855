"""Draw build and push progress on stderr: rich on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from relkit.cli.output import say
from relkit.docker.events import BuildOutput, BuildStep, Event, LayerProgress, Pushed

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class PlainProgress:
    """One line per build step and output line, one per change of a layer's push status."""

    def __init__(self) -> None:
        self._status: dict[tuple[str, str], str] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: Event) -> None:
        if isinstance(event, BuildStep):
            say(f"{event.image}: {event.text}")
        elif isinstance(event, BuildOutput):
            say(f"{event.image}:   {event.text}")
        elif isinstance(event, LayerProgress):
            key = (event.ref, event.layer)
            if self._status.get(key) != event.status:
                self._status[key] = event.status
                say(f"push {event.ref}: {event.layer} {event.status}")
        elif isinstance(event, Pushed):
            say(f"pushed {event.ref} {event.digest}")


class RichProgress:
    """A spinner on the current build step, a progress bar per layer while pushing."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
        )

        from relkit.cli.output import console

        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            console=console(),
            transient=False,
        )
        self._step: TaskID | None = None
        self._layers: dict[tuple[str, str], TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def _print(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self._progress.console.print(Text(text, style=style))

    def __call__(self, event: Event) -> None:
        progress = self._progress
        if isinstance(event, BuildStep):
            self._print(f"{event.image}: {event.text}", "bold")
            if self._step is None:
                self._step = progress.add_task(event.text, total=None)
            progress.update(self._step, description=f"{event.image}: {event.text}")
        elif isinstance(event, BuildOutput):
            self._print(f"  {event.text}", "dim")
        elif isinstance(event, LayerProgress):
            self._layer(event)
        elif isinstance(event, Pushed):
            self._finish_step()
            self._print(f"pushed {event.ref} {event.digest}", "green")

    def _finish_step(self) -> None:
        if self._step is not None:
            self._progress.remove_task(self._step)
            self._step = None

    def _layer(self, event: LayerProgress) -> None:
        self._finish_step()
        # One bar per layer of an image: later tags of it only confirm the same layers.
        image = event.ref.rsplit(":", 1)[0]
        key = (image, event.layer)
        description = f"{image.rsplit('/', 1)[-1]} {event.layer[:12]} {event.status}"
        task = self._layers.get(key)
        if task is None:
            task = self._progress.add_task(description, total=event.total)
            self._layers[key] = task
        fields: dict[str, Any] = {"description": description}
        if event.total:
            fields["total"] = event.total
        if event.current is not None:
            fields["completed"] = event.current
        if event.status.startswith(("Pushed", "Layer already exists", "Mounted from")):
            total = self._progress.tasks[self._task_index(task)].total or 1
            fields.update(total=total, completed=total)
        self._progress.update(task, **fields)

    def _task_index(self, task: TaskID) -> int:
        return next(i for i, t in enumerate(self._progress.tasks) if t.id == task)


class NoProgress:
    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, event: Event) -> None:
        return None


def progress_for(quiet: bool) -> PlainProgress | RichProgress | NoProgress:
    if quiet:
        return NoProgress()
    if sys.stderr.isatty():
        return RichProgress()
    return PlainProgress()
