"""What a child process does to end with the process that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def die_with(parent: int) -> bool:
    """Have the kernel kill this process when `parent`, the process that started it, dies, even by
    kill -9 (Linux's prctl; elsewhere a child outlives its parent); whether `parent` is still there,
    as it may have died before that took effect."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent
