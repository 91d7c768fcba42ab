"""What a thread freed is given back to the system, not kept by malloc for that thread's reuse."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

# In a fresh interpreter: a thread allocates 300 MB in blocks malloc serves from its arena (beyond
# Python's small-object allocator), keeps one block in a thousand, frees the rest, and gives back.
PROGRAM = """
import json, threading
from kg.build.heap import give_back

def resident():
    lines = open("/proc/self/status").read().splitlines()
    return next(int(line.split()[1]) // 1024 for line in lines if line.startswith("VmRSS"))

found = {}

def work():
    blocks = [bytes(1000) + bytes([i % 256]) for i in range(300_000)]
    kept = blocks[::1000]
    del blocks
    found["freed"] = resident()
    give_back()
    found["given back"] = resident()
    found["kept"] = len(kept)

thread = threading.Thread(target=work)
thread.start()
thread.join()
print(json.dumps(found))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_memory_a_thread_freed_is_given_back() -> None:
    answer = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True)
    found = json.loads(answer.stdout)
    assert found["kept"] == 300
    assert found["freed"] > 200  # malloc kept the freed blocks: the case give_back exists for
    assert found["given back"] < found["freed"] / 4, found


# The same from the build's thread pool: each call allocates and frees 150 MB, keeping a few blocks.
POOL_PROGRAM = """
import json, os
os.environ["KG_QUERY_THREADS"] = "2"
from kg.build.parallel import each_at_once

def resident():
    lines = open("/proc/self/status").read().splitlines()
    return next(int(line.split()[1]) // 1024 for line in lines if line.startswith("VmRSS"))

def work(index):
    blocks = [bytes(1000) + bytes([index]) for _ in range(150_000)]
    return blocks[::1000]

kept = each_at_once(work, range(4))
print(json.dumps({"after": resident(), "kept": sum(map(len, kept))}))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_query_threads_give_back_what_each_call_freed() -> None:
    answer = subprocess.run([sys.executable, "-c", POOL_PROGRAM], capture_output=True, text=True, check=True)
    found = json.loads(answer.stdout)
    assert found["kept"] == 600
    assert found["after"] < 120, found  # without giving back, the two threads' arenas held 300 MB
