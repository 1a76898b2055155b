"""How a distributed run's tasks know to stop, wherever they run.

Decisions (quoted in the README):

* **The stop file**: a cancel, Ctrl-C or SIGTERM writes `stop` in the run folder, which every task
  looks for between batches (remote workers too, through the shared file system), so running blocks
  stop at once; finished blocks stay.
* **The run's process**: a task running on the run's own host also stops when that process has ended
  (SIGKILL, a crash: nobody wrote the stop file), so a killed run's workers never go on writing into a
  run folder that the same command, started again, has taken over.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..owners import alive, host_name, process_started

STOP_FILE = "stop"


@dataclass(frozen=True)
class StopSignal:
    """Picklable: sent with every task."""
    path: str
    host: str
    pid: int
    started: str | None

    @classmethod
    def for_run(cls, folder: str | os.PathLike) -> "StopSignal":
        """The signal of the run in this process, writing into `folder`."""
        return cls(str(Path(folder) / STOP_FILE), host_name(), os.getpid(), process_started(os.getpid()))

    def __call__(self) -> bool:
        """Whether the task should stop now."""
        return os.path.exists(self.path) or (self.host == host_name() and not alive(self.pid, self.started))

    def request(self) -> None:
        Path(self.path).touch()

    def clear(self) -> None:
        Path(self.path).unlink(missing_ok=True)
