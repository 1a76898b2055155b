"""Who writes a file: this host and process, and whether a process named in a file still runs.

Temporary files and output locks carry their writer's host and process id, so that a later run
can tell what a killed one left behind (its process has ended on this host) from what a running
one is writing. Another host's processes cannot be looked at: their files are left alone.
"""
from __future__ import annotations

import os
import socket
import sys


def host_name() -> str:
    """This host's name as it appears in file names: letters, digits and underscores only."""
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"


def owner() -> str:
    """HOST-PID of this process, as temporary file names carry it."""
    return f"{host_name()}-{os.getpid()}"


def process_started(pid: int) -> str | None:
    """When process `pid` started, as the system counts it (Linux: clock ticks since boot), so that a
    process id reused by an unrelated program is not taken for the original; None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()   # field 22 of stat(5); fields[0] is field 3
    except (OSError, IndexError):
        return None


def alive(pid: int, started: str | None = None) -> bool:
    """Whether process `pid` of this host still runs (and, when `started` is given, is the same one)."""
    if pid == os.getpid():
        return True
    running = _windows_alive(pid) if sys.platform == "win32" else _posix_alive(pid)
    if running and started is not None:
        now = process_started(pid)
        return now is None or now == started
    return running


def _posix_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # no permission: it exists
        return True
    return True


def _windows_alive(pid: int) -> bool:
    """os.kill(pid, 0) would send CTRL_C_EVENT on Windows: ask the kernel instead."""
    import ctypes
    from ctypes import wintypes
    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    kernel = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return ctypes.get_last_error() == access_denied
    try:
        code = wintypes.DWORD()
        return bool(kernel.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel.CloseHandle(handle)
