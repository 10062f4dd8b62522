"""The run lock: one writer per output folder, a lock of a dead process taken over."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


from .files import LOCK_NAME



# --------------------------------------------------------------------------- locks
class LockedError(ValueError):
    """Another live synthfilter run holds the folder's lock."""


class StaleLockWarning(UserWarning):
    """A lock left by a process that is gone was taken over."""


def _proc_start(pid: int) -> str | None:
    """Start time of ``pid`` (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields and fields[0] in ("Z", "X"):
        return "dead"
    return fields[19] if len(fields) > 19 else None


def _pid_alive(pid: int, start: str | None) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    now = _proc_start(pid)
    if now == "dead":
        return False
    if start and now and now != start:
        return False  # the pid now belongs to another process
    return True


class RunLock:
    """``with RunLock(folder):`` -- hold ``folder/.synthfilter.lock`` while writing there.

    The lock file is created with ``O_CREAT|O_EXCL`` and holds the process id, host name
    and start time (JSON). When it exists and its process is alive (on this host, or on
    another host where that cannot be checked), :class:`LockedError` is raised. A lock
    whose process is gone is taken over with a :class:`StaleLockWarning`. The lock is
    removed on exit, also on exceptions (only if it is still ours). The folder is
    created when missing.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._token: str | None = None

    def _content(self) -> bytes:
        self._token = secrets.token_hex(8)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "start": _proc_start(os.getpid()),
                "token": self._token, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        return (json.dumps(info) + "\n").encode()

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, self._content())
            os.fsync(fd)
        except OSError as exc:
            # a full disk: a 0-byte lock left here would stop the next run; remove it and say where
            os.close(fd)
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._token = None
            raise OSError(exc.errno, f"cannot write the run lock {self.path}: {exc.strerror or exc}") from exc
        os.close(fd)
        return True

    def _read(self) -> tuple[bytes, dict[str, Any] | None]:
        """The lock's bytes and parsed content; waits briefly for a lock being written."""
        raw = b""
        for attempt in range(20):
            try:
                raw = self.path.read_bytes()
            except FileNotFoundError:
                return b"", None
            try:
                info = json.loads(raw)
                if isinstance(info, int):
                    info = {"pid": info}
                if isinstance(info, dict) and isinstance(info.get("pid"), int):
                    return raw, info
            except ValueError:
                text = raw.decode("ascii", "replace").split()
                if text and text[0].isdigit():
                    return raw, {"pid": int(text[0]), "host": text[1] if len(text) > 1 else None}
            time.sleep(0.05)
        return raw, None

    def _locked(self, info: dict[str, Any] | None) -> LockedError:
        pid = info.get("pid", "?") if info else "?"
        host = info.get("host") if info else None
        where = f" on host {host}" if host and host != socket.gethostname() else ""
        return LockedError(f"another synthfilter run (pid {pid}{where}) is writing to {self.folder}; wait for it "
                           f"or remove {self.path} if that process is gone")

    def acquire(self) -> RunLock:
        if self._token is not None:
            raise self._locked({"pid": os.getpid()})
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create():
                return self
            raw, info = self._read()
            if not raw and info is None and not self.path.exists():
                continue  # released meanwhile: try again
            if info is not None:
                host = info.get("host")
                if host and host != socket.gethostname():
                    raise self._locked(info)
                if _pid_alive(info["pid"], info.get("start")):
                    raise self._locked(info)
            elif time.time() - self._mtime() < 5:
                raise self._locked(None)  # unreadable but fresh: someone is writing it
            if self._take_over(raw, info):
                return self
        raise self._locked(self._read()[1])

    def _mtime(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def _take_over(self, raw: bytes, info: dict[str, Any] | None) -> bool:
        """Replace the stale lock whose bytes are ``raw``; serialised by ``flock`` on the folder."""
        guard = None
        try:
            import fcntl

            guard = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(guard, fcntl.LOCK_EX)
        except (ImportError, OSError):
            if guard is not None:
                os.close(guard)
            guard = None
        try:
            try:
                if self.path.read_bytes() != raw:
                    return False  # someone else took it over or released it meanwhile
            except FileNotFoundError:
                return self._create()
            self.path.unlink()
            if not self._create():
                return False
            who = f"pid {info.get('pid')}" if info else "unreadable content"
            warnings.warn(f"took over a stale lock {self.path} ({who}: that process is gone)", StaleLockWarning,
                          stacklevel=4)
            return True
        finally:
            if guard is not None:
                os.close(guard)  # closing releases the flock

    def release(self) -> None:
        if self._token is None:
            return
        try:
            _, info = self._read()
            if info is not None and info.get("token") == self._token:
                self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            self._token = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
