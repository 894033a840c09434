"""Run one command and print its cost as JSON: the wrapper behind every measurement.

`python benchmarks/measure.py STDERR_FILE -- CMD...` runs CMD with stdout discarded and
stderr saved, and prints `{"rc", "wall", "cpu", "maxrss_mb", "tree_mb"}`.

Why a wrapper: `getrusage(RUSAGE_CHILDREN).ru_maxrss` is the largest resident set of any
waited-for descendant *so far*, so in the long-lived harness it could only grow. A fresh
wrapper per run has only this command below it, which makes the figure per command. It is
exact, but it is one process's peak, so for tools with worker processes a thread also samples
the memory of the whole process tree every 20 ms (`tree_mb`): the sum of each process's PSS
(proportional set size, from /proc/<pid>/smaps_rollup), which counts a page shared by forked
workers once in all rather than once per process as summed RSS would. Where PSS cannot be
read it falls back to RSS. PSS is read only while the tree has more than one process (for one
process it equals RSS less shared libraries, and /proc/<pid>/smaps_rollup costs ~30 ms for a
1 GB process against ~0.02 ms for statm), and the sampler sleeps at least ten times as long as
its last sample took, so it never takes more than about a tenth of a core from the command.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")
_INTERVAL = 0.02


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(k) for k in f.read().split())
    except OSError:
        pass
    return kids


def _pss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return None


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_memory(root: int) -> int:
    """Memory of `root` and all its descendants in bytes: RSS for a lone process, else the
    summed PSS (RSS where PSS is unreadable)."""
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid not in pids:
            pids.append(pid)
            stack.extend(_children(pid))
    if len(pids) == 1:
        return _rss(root)
    return sum(pss if (pss := _pss(pid)) is not None else _rss(pid) for pid in pids)


def _sample(pid: int, done: threading.Event, peak: list[int]) -> None:
    while not done.is_set():
        start = time.perf_counter()
        peak[0] = max(peak[0], tree_memory(pid))
        done.wait(max(_INTERVAL, 10 * (time.perf_counter() - start)))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: measure.py STDERR_FILE -- CMD...", file=sys.stderr)
        return 2
    cmd = argv[2:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = [0]
    done = threading.Event()
    with Path(argv[0]).open("wb") as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        except OSError as exc:
            err.write(f"cannot start {cmd[0]}: {exc}\n".encode())
            print(
                json.dumps({"rc": 127, "wall": 0.0, "cpu": 0.0, "maxrss_mb": 0.0, "tree_mb": 0.0})
            )
            return 0
        sampler = threading.Thread(target=_sample, args=(proc.pid, done, peak), daemon=True)
        sampler.start()
        rc = proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # On Linux ru_maxrss is in KiB.
    result = {
        "rc": rc,
        "wall": wall,
        "cpu": cpu,
        "maxrss_mb": after.ru_maxrss / 1024,
        "tree_mb": peak[0] / (1 << 20),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
