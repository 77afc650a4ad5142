"""Worker processes for the CPU-bound stages (dedup chunks, index features): how they start.

One place decides the start method, so the dedup engine and the index's add start their
workers the same way: ``fork`` where it is safe, so workers inherit the compiled kernels and
the word list that the parent loaded once (call the stage on a tiny input first), else
``forkserver``/``spawn``.
"""

from __future__ import annotations

import sys
from multiprocessing import get_context
from typing import Any

__all__ = ["worker_context"]


def worker_context() -> Any:
    """fork where it is safe (workers inherit the loaded kernels and word list), else spawn.

    Python 3.12+ warns about fork in a process with threads, so it gets forkserver there.
    """
    if sys.platform == "linux" and sys.version_info < (3, 12):
        return get_context("fork")
    return get_context("forkserver" if sys.platform == "linux" else "spawn")
