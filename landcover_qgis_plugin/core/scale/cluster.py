"""Where a distributed run's tasks run: a LocalCluster of this machine, or an existing Dask scheduler.

Decisions (quoted in the README):

* **Local workers** are `workers` processes (or threads of this process inside QGIS, whose executable
  cannot start Python workers), one thread each; their scratch space is a temporary folder in the run
  folder, so a killed run's goes with its other temporary files.
* **A killed run's workers** (this process, their scheduler, gone) close within WORKER_DEATH_TIMEOUT,
  without screens of connection errors (their logs are silenced; a task's own error reaches the run).
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from ..errors import InputError
from ..files import temporary_folder

CONNECT_TIMEOUT = "30s"   # for a scheduler to answer
WORKER_DEATH_TIMEOUT = "10s"   # a local worker without its scheduler (this process, killed) closes after this


class Cluster:
    """A Dask client: on a LocalCluster of `workers` processes, or on the scheduler at `address`."""

    def __init__(self, workers: int, address: str | None, processes: bool = True, run_folder: Path | None = None):
        """`run_folder`: where local workers keep their scratch space (removed with the cluster; a killed
        run's is removed by the next run, as its other temporary files)."""
        self._workers, self._address, self._processes = workers, address, processes
        self._run_folder = run_folder
        self._scratch = contextlib.ExitStack()
        self.cluster = self._client = None

    def __enter__(self) -> "Cluster":
        return self

    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def client(self):
        """The client, connecting or starting the cluster on first use."""
        if self._client is None:
            self._start()
        return self._client

    def _start(self) -> None:
        from distributed import Client, LocalCluster
        if self._address:
            try:
                self._client = Client(self._address, timeout=CONNECT_TIMEOUT)
            except OSError as error:
                raise InputError(f"No Dask scheduler answered at {self._address} ({error}); start one (dask "
                                 "scheduler) or leave --scheduler out to run on this machine.") from None
        else:
            if self._workers < 1:
                raise InputError(f"--workers must be at least 1, got {self._workers}.")
            scratch = (self._scratch.enter_context(temporary_folder(self._run_folder / "workers"))
                       if self._run_folder is not None else None)
            if self._processes:   # a SIGKILL of this process leaves its semaphores to the tracker: no warning
                os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning:multiprocessing.resource_tracker")
            # Workers whose scheduler (this process) is gone close within WORKER_DEATH_TIMEOUT, quietly.
            self.cluster = LocalCluster(n_workers=self._workers, threads_per_worker=1, processes=self._processes,
                                        dashboard_address=None, silence_logs=logging.CRITICAL,
                                        death_timeout=WORKER_DEATH_TIMEOUT, local_directory=scratch)
            self._client = Client(self.cluster)

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def __exit__(self, *exc) -> None:
        for part in (self._client, self.cluster):
            if part is not None:
                part.close()
        self._scratch.close()
