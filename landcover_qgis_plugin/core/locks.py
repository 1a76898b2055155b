"""Outputs owned for the whole run: a second run writing the same file is refused, or waits.

Decisions (quoted in the README):

* **A lock file** `.NAME.lock` beside each output (a distributed run's folder holds its own, `.lock`)
  is created exclusively when the run starts and removed once the output is in place or the run
  failed, so two runs (two shells, the dialog and the toolbox, two QGIS windows) never write one
  file, and the later does not silently replace the earlier. It names its run: host, process, when
  it started and the command.
* **Refused or waiting**: a run finding an output locked stops with one message naming the other
  run; with `wait` it waits for it (a cancel still stops it) and then checks the output afresh, so
  without overwrite it is refused if the other run wrote it.
* **Stale locks**: a lock whose process has ended on this host (killed, a power cut) is taken over
  with a note. Another host's process cannot be looked at: its lock is respected, and the message
  says which file to delete if that run is gone.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from .errors import Cancelled, OutputLockedError
from .files import WRITE_ERRNOS, make_folder, write_failure
from .owners import alive, host_name, owner, process_started

LOCK_SUFFIX = ".lock"
FOLDER_LOCK = ".lock"
POLL_SECONDS = 0.5
BEING_WRITTEN_SECONDS = 10.0   # an unreadable lock younger than this is still being written by its run


def lock_beside(output: str | os.PathLike) -> Path:
    """The lock file of an output file: `.NAME.lock` in its folder."""
    output = Path(output)
    return output.parent / f".{output.name}{LOCK_SUFFIX}"


def lock_in(folder: str | os.PathLike) -> Path:
    """The lock file of a run folder: inside it."""
    return Path(folder) / FOLDER_LOCK


@dataclass
class OutputLocks:
    """The lock files of one run's outputs (lock file -> the output it guards, for messages), held
    from `__enter__` to `__exit__`. `notes`: stale locks taken over, for the run's summary."""
    locks: dict[Path, Path]
    wait: bool = False
    report: Callable[[str], None] = lambda message: None
    is_cancelled: Callable[[], bool] = lambda: False
    waited: bool = False
    _held: list[Path] = field(default_factory=list)
    _taken: dict[str, tuple[dict, list[Path]]] = field(default_factory=dict)   # token -> dead run, its outputs
    _token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __enter__(self) -> "OutputLocks":
        for folder in sorted({lock.parent for lock in self.locks}):
            self._remove_stale(folder)
        try:
            for lock, output in sorted(self.locks.items()):   # one order: two waiting runs never deadlock
                self._acquire(lock, output)
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    @property
    def notes(self) -> list[str]:
        """One line per dead run whose locks were taken over."""
        return [f"Took over {', '.join(repr(str(output)) for output in outputs)} from {_describe(holder)}, which "
                "ended without finishing." for holder, outputs in self._taken.values()]

    def release(self) -> None:
        """Remove the locks this run holds (only those still its own)."""
        while self._held:
            lock = self._held.pop()
            holder = _read(lock)
            if holder is not None and holder.get("token") == self._token:
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()

    def _acquire(self, lock: Path, output: Path) -> None:
        while True:
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._held_elsewhere(lock, output)
                continue
            except OSError as error:
                if error.errno not in WRITE_ERRNOS:
                    raise
                raise write_failure(output, f"its lock file: {error.strerror}", error.errno) from None
            try:
                with os.fdopen(handle, "w") as stream:
                    json.dump(self._record(), stream)
            except BaseException as error:
                lock.unlink(missing_ok=True)
                if not isinstance(error, OSError) or error.errno not in WRITE_ERRNOS:
                    raise
                raise write_failure(output, f"its lock file: {error.strerror}", error.errno) from None
            self._held.append(lock)
            return

    def _record(self) -> dict:
        command = "QGIS" if "qgis" in Path(sys.executable).name.lower() else " ".join(sys.argv)
        return {"host": host_name(), "pid": os.getpid(), "started": process_started(os.getpid()),
                "thread": threading.get_ident(), "token": self._token,
                "since": datetime.datetime.now().isoformat(timespec="seconds"), "command": command[:300]}

    def _held_elsewhere(self, lock: Path, output: Path) -> None:
        """Another run's lock is there: take it over if its process has ended, else wait or refuse."""
        holder = _read(lock)
        if holder is None:   # gone meanwhile, or being written: look again
            if _age(lock) > BEING_WRITTEN_SECONDS:
                self._take_over(lock, output, {})
            else:
                time.sleep(0.05)
            return
        if holder.get("host") == host_name() and not alive(int(holder.get("pid", -1)), holder.get("started")):
            self._take_over(lock, output, holder)
            return
        if not self.wait:
            raise OutputLockedError(
                f"Output '{output}' is being written by another run ({_describe(holder)}); wait for it to "
                "finish, ask this run to wait for it (--wait), or write elsewhere. If that run no longer exists, "
                f"delete '{lock}'.")
        if self.is_cancelled():
            raise Cancelled()
        self.waited = True
        self.report(f"Waiting for {_describe(holder)} to finish writing '{output.name}'")
        time.sleep(POLL_SECONDS)

    def _remove_stale(self, folder: Path) -> None:
        """The locks dead runs of this host left in `folder`, whichever outputs they were for."""
        try:
            names = [entry.name for entry in os.scandir(folder)
                     if entry.name.startswith(".") and entry.name.endswith(LOCK_SUFFIX)]
        except OSError:
            return
        for name in names:
            lock = folder / name
            holder = _read(lock)
            if (holder is not None and lock not in self.locks and holder.get("host") == host_name()
                    and not alive(int(holder.get("pid", -1)), holder.get("started"))):
                self._take_over(lock, lock, holder, note=False)

    def _take_over(self, lock: Path, output: Path, holder: dict, note: bool = True) -> None:
        """Remove a dead run's lock, unless another run replaced it meanwhile (then it is put back)."""
        aside = lock.with_name(f"{lock.name}.{owner()}.stale")
        try:
            os.replace(lock, aside)
        except FileNotFoundError:   # another run took it over first
            return
        moved = _read(aside) or {}
        if moved.get("token") != holder.get("token"):   # a live run's fresh lock: give it back
            with contextlib.suppress(OSError):
                os.link(aside, lock)
            aside.unlink(missing_ok=True)
            return
        aside.unlink(missing_ok=True)
        if holder and note:
            self._taken.setdefault(str(holder.get("token")), (holder, []))[1].append(output)


def _read(lock: Path) -> dict | None:
    try:
        record = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _describe(holder: dict) -> str:
    command = holder.get("command") or ""
    command = f": {command if len(command) <= 80 else command[:77] + '...'}" if command else ""
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}{command}"


@contextlib.contextmanager
def locked_outputs(outputs: Sequence[str | os.PathLike], folders: Sequence[str | os.PathLike] = (),
                   wait: bool = False, report: Callable[[str], None] | None = None,
                   is_cancelled: Callable[[], bool] | None = None) -> Iterator[OutputLocks]:
    """Hold the locks of these output files and run folders (made if need be) for the block (see OutputLocks)."""
    for folder in folders:
        make_folder(folder)
    locks = {lock_beside(path): Path(path) for path in outputs}
    locks.update({lock_in(folder): Path(folder) for folder in folders})
    with OutputLocks(locks, wait, report or (lambda message: None), is_cancelled or (lambda: False)) as held:
        yield held
