"""What a child process does to end with the process that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import kg

_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def die_with(parent: int) -> bool:
    """Have the kernel kill this process when `parent`, the process that started it, dies, even by
    kill -9 (Linux's prctl; elsewhere a child outlives its parent); whether `parent` is still there,
    as it may have died before that took effect."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent


def python_child(module: str, *arguments: str, **popen: Any) -> subprocess.Popen[bytes]:
    """`python -m module PARENT-PID arguments...` started with `popen`'s options, where the module's
    `main` is to call `die_with(PARENT-PID)` first. -P and PYTHONPATH: the child imports this very
    copy of kg, wherever the parent found it, and never a `kg` of the working folder."""
    found = str(Path(kg.__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, (found, os.environ.get("PYTHONPATH"))))
    command = [sys.executable, "-P", "-m", module, str(os.getpid()), *arguments]
    return subprocess.Popen(command, env={**os.environ, "PYTHONPATH": path}, **popen)
