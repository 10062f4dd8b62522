"""Pool workers end with the process that started them (issue 30)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's")

PARENT = textwrap.dedent("""
    import os, sys, time, multiprocess
    from synthfilter.engines.workers import BoundToParent, children_die_with_me

    def work(_):
        print(os.getpid(), flush=True)
        time.sleep(120)

    if sys.argv[1] == "cli":
        children_die_with_me()
        fn = work
    else:
        fn = BoundToParent(work)
    pool = multiprocess.get_context("fork").Pool(2)
    pool.map_async(fn, [0, 1])
    time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False

def _left_after_killing(proc: subprocess.Popen, pids: list[int], wait: float = 10) -> list[int]:
    """SIGKILL ``proc``, give ``pids`` ``wait`` seconds to end, and return those still alive (killed then)."""
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + wait
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if _alive(pid)]
    for pid in left:
        os.kill(pid, 9)
    return left



@pytest.mark.parametrize("how", ["library", "cli"])
def test_workers_die_when_the_parent_is_killed(tmp_path, how):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(script), how], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    assert all(_alive(pid) for pid in workers)
    assert not _left_after_killing(proc, workers)


def test_the_wrapper_pickles_as_its_function():
    import pickle

    from datasets.fingerprint import Hasher

    from synthfilter.engines.workers import BoundToParent

    wrapped = BoundToParent(len)
    assert Hasher.hash(wrapped) == Hasher.hash(BoundToParent(len))
    assert pickle.loads(pickle.dumps(wrapped))("abc") == 3


WATCHED = textwrap.dedent("""
    import subprocess, sys, time
    from synthfilter.engines.workers import watch_descendants
    watch_descendants()
    time.sleep(1)
    shell = subprocess.Popen(["sh", "-c", "sleep 120 & echo $!; sleep 120"], stdout=subprocess.PIPE, text=True)
    print(shell.pid, shell.stdout.readline().strip(), flush=True)  # a child, and a grandchild started later
    time.sleep(120)
""")


def test_a_watched_process_tree_ends_with_its_root(tmp_path):
    script = tmp_path / "root.py"
    script.write_text(WATCHED)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    pids = [int(x) for x in proc.stdout.readline().split()]
    time.sleep(1.5)  # the watcher has seen them
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    assert not _left_after_killing(proc, pids)
