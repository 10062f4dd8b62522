"""Worker processes that end with the process that started them.

``datasets.map(num_proc=N)`` runs a transform in a pool of forked processes. When the main
process is killed (SIGKILL, the OOM killer), nothing tells them: each finishes its whole
shard first, minutes of CPU for nothing. :class:`BoundToParent` wraps a transform so that,
in a worker, its first call asks Linux to kill the worker when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGKILL)``; elsewhere nothing happens). The wrapper pickles as
the transform does (the same ``datasets`` cache key on every run).

The command line (a process of its own) goes further: :func:`children_die_with_me` makes
every process it forks from its main thread (pool workers, and the manager process
``datasets`` starts beside them, which runs none of our code) die with it, and with
``--engine ray`` :func:`watch_descendants` ends the local Ray it started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from typing import Any, Callable

__all__ = ["BoundToParent", "die_with_parent", "children_die_with_me", "watch_descendants"]

_PR_SET_PDEATHSIG = 1
_bound = False
_registered = False
_forked_by_main = False
_forker = 0


def die_with_parent(parent: int | None = None) -> bool:
    """In a child process on Linux: be killed (SIGKILL) when the parent process dies; exit at once when it
    is already gone (``parent``: its pid, as seen before). Returns whether the request was made."""
    global _bound
    if _bound:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    _bound = True
    if parent is not None and os.getppid() != parent:  # it died before the request
        os._exit(1)
    return True


def _in_worker() -> bool:
    for name in ("multiprocess", "multiprocessing"):
        module = sys.modules.get(name)
        if module is not None and module.current_process().name != "MainProcess":
            return True
    return False


class BoundToParent:
    """``fn`` that, called in a pool worker, first binds the worker's life to its parent's (see module)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self._parent: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"fn": self.fn}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.fn = state["fn"]
        self._parent = os.getppid()  # unpickled in a worker: its parent is the pool's owner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not _bound and _in_worker():
            die_with_parent(self._parent)
        return self.fn(*args, **kwargs)


def _before_fork() -> None:
    global _forked_by_main, _forker
    _forked_by_main = threading.current_thread() is threading.main_thread()
    _forker = os.getpid()


def _after_fork_in_child() -> None:
    global _bound
    _bound = False  # inherited from the parent: the child makes its own request
    if _forked_by_main:  # Linux sends the signal when the forking *thread* ends: only the main thread's last
        die_with_parent(_forker)


def children_die_with_me() -> None:
    """Every process this process forks (``os.fork``, multiprocessing's fork) from its main thread from now
    on is killed when this process dies. For a command-line process, not a library: it changes what
    happens to every child of the process. Linux only (elsewhere nothing happens)."""
    global _registered
    if _registered or not sys.platform.startswith("linux"):
        return
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
    _registered = True


_WATCH = r"""
import os, signal, sys, time

def start(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]

def parents():
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    out[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out

driver, first = int(sys.argv[1]), sys.argv[2]
known = {}
while start(driver) == first:
    tree, todo, seen = parents(), [driver], {driver}
    while todo:  # every descendant, every time: a known process may have started new ones
        pid = todo.pop()
        for child, parent in tree.items():
            if parent == pid and child not in seen and child != os.getpid():
                seen.add(child)
                known.setdefault(child, start(child))
                todo.append(child)
    time.sleep(0.5)
for pid, began in known.items():
    if began is not None and start(pid) == began:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


def watch_descendants() -> None:
    """Start a small watcher process (in its own session) that, once this process has ended in any way,
    kills every process it saw descend from it. For processes this one starts with ``subprocess`` rather
    than ``fork``, which :func:`children_die_with_me` cannot reach (a local Ray's raylet and agents, which
    Ray leaves running when its driver is killed). For a command-line process; Linux only."""
    if not sys.platform.startswith("linux"):
        return
    import subprocess

    with open(f"/proc/{os.getpid()}/stat") as handle:
        began = handle.read().rsplit(")", 1)[1].split()[19]
    subprocess.Popen([sys.executable, "-c", _WATCH, str(os.getpid()), began], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
