"""What the server processes cost, read from /proc: CPU seconds (utime + stime, every thread) and resident memory."""

from __future__ import annotations

import asyncio
import os
import time

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()  # after "pid (name)": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def total_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def total_rss(pids: list[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids)


async def wait_until_quiet(pids: list[int], deadline: float, busy: float = 0.05, step: float = 0.2) -> float:
    """Wait until the processes use under `busy` of a core over `step` seconds, or `deadline` seconds
    pass (after a storm the chat is still sending presence frames); the seconds waited."""
    start = time.monotonic()
    before = total_cpu(pids)
    while time.monotonic() - start < deadline:
        await asyncio.sleep(step)
        now = total_cpu(pids)
        if now - before < busy * step:
            break
        before = now
    return time.monotonic() - start
