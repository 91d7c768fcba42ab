"""A file written whole appears at once under its name, and a failed write leaves nothing behind."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kg.build.whole_files import remove_stale_partials, write_whole


def test_a_file_is_written_whole_into_a_folder_made_for_it(tmp_path: Path) -> None:
    write_whole(tmp_path / "cache" / "entry.json", b"[1, 2]")
    write_whole(tmp_path / "cache" / "entry.json", b"[3]")  # replaced whole
    assert [path.name for path in (tmp_path / "cache").iterdir()] == ["entry.json"]
    assert (tmp_path / "cache" / "entry.json").read_bytes() == b"[3]"


def test_a_write_that_fails_leaves_no_partial_file(tmp_path: Path) -> None:
    (tmp_path / "entry.json").mkdir()  # a folder where the file would go: the rename fails
    with pytest.raises(OSError):
        write_whole(tmp_path / "entry.json", b"[1]")
    assert [path.name for path in tmp_path.iterdir()] == ["entry.json"]


def test_partial_files_a_killed_write_left_are_removed_once_stale(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".entry.json.abc.partial", tmp_path / ".other.json.def.partial"
    for partial in (stale, fresh):
        partial.write_bytes(b"[1")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    write_whole(tmp_path / "entry.json", b"[1]")
    remove_stale_partials(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([fresh.name, "entry.json"])
