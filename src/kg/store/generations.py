"""Builds as generations: dist/ and the store of one build become visible together, by one rename.

Every build writes a folder `generations/NNNN-HASH/` holding its `dist/` and
`store/` beside the store's path, then points the link `generations/current`
at it with one `os.replace`. The paths users know are fixed links through
`current` (`.kg/store -> generations/current/store`, `dist ->
.kg/generations/current/dist`), so they switch together, and a build killed
at any instant leaves `current` on the old generation or the new one, each
whole. The next build removes what a killed one left, and every generation
but the current and the previous one (those older than the current one while
its writers finish, once its checks have passed).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kg.errors import EXIT_FAILED, KgError

log = logging.getLogger(__name__)

GENERATIONS = "generations"
CURRENT = "current"
_NAME = re.compile(r"^(\d{4,})-([0-9a-f]{12})$")
# The files of a store or of dist/ that builds made before generations left in place of the links.
_ROCKSDB_FILE = re.compile(
    r"^(CURRENT|IDENTITY|LOCK|LOG(\.old\.\d+)?|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))$"
)
# What `_link` moves aside or makes beside a link (`.store.old-PID`, `.dist.link-PID`), and builds before
# generations left (`.store.new-*`): what a build removes there, and nothing else.
_LEFTOVERS = ("old", "link", "new")
_DIST_FILE = re.compile(r"^(graphs|opioid-kg\.(nq|nq\.gz|trig|jsonld)|void\.ttl)$")


def _made_of(folder: Path, files: re.Pattern[str]) -> bool:
    """`folder` is a folder holding files of those names only, at least one."""
    names = [entry.name for entry in folder.iterdir()] if folder.is_dir() else []
    return bool(names) and all(files.match(name) for name in names)


def place(path: Path) -> Path:
    """Where `path` is, its folder's links and `..` followed; not its own last link, which a build
    replaces. GenerationError on a loop of links."""
    whole = path.absolute()
    try:
        return whole.resolve() if whole.name in ("", ".", "..") else whole.parent.resolve() / whole.name
    except (RuntimeError, OSError) as error:
        raise GenerationError(f"cannot follow the links of {path}: {error}") from None


class GenerationError(KgError):
    """The generations folder cannot be used now; the message says which path and why."""


@dataclass(frozen=True)
class Generation:
    """One build's outputs: `dist/` and `store/` in one folder named `NNNN-HASH`."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def dist(self) -> Path:
        return self.path / "dist"

    @property
    def store(self) -> Path:
        return self.path / "store"

    @property
    def graphs(self) -> Path:
        """Each graph of the dump as a sorted N-Quads file of its own, which the next build patches."""
        return self.path / "graphs"


def generation_id(store: Path | str) -> str:
    """The generation a store path opens today (its folder's name), or the folder's own name for a
    store written outside generations."""
    real = Path(os.path.realpath(store))
    folder = generation_folder(real)
    return folder.name if folder is not None else real.name


def generation_folder(store: Path) -> Path | None:
    """The generation folder a resolved store path lies in; None for a store outside generations."""
    return store.parent if store.name == "store" and store.parent.parent.name == GENERATIONS else None


class Generations:
    """The generations of builds whose store is reached at `store_link` and dist/ at `dist_link`."""

    def __init__(self, store_link: Path, dist_link: Path) -> None:
        self.store_link = store_link
        self.dist_link = dist_link
        self.home = store_link.parent / GENERATIONS

    def check_place(self, beside: tuple[str, ...]) -> None:
        """The build may write where it is asked: its folders beside the store (`generations` and the
        caches named in `beside`) are its own or not there yet, and serve this store alone; the store
        and dist/ are links a build made, not there yet, or the folders of a build made before
        generations; and dist/ is apart from the build's own folders. Anything else would be moved
        aside and removed, or emptied, so it is refused before the build writes anything."""
        home = self.store_link.parent
        if self.home.exists() and not (self.home / ".lock").is_file():
            raise GenerationError(f"{self.home} is not a build's: name a store in a folder of its own")
        if not self.home.exists():
            for taken in (home / name for name in beside if (home / name).exists()):
                raise GenerationError(f"{taken} is not a build's: name a store in a folder of its own")
        served = (self.home / ".lock").read_text("utf-8") if self.home.exists() else ""
        if served and served != self.store_link.name:  # the lock of a build before this check is empty
            raise GenerationError(
                f"{home} holds the builds of the store {home / served}: a store needs a folder of its own"
            )
        for link, made, part in (
            (self.store_link, _ROCKSDB_FILE, "store"),
            (self.dist_link, _DIST_FILE, "dist"),
        ):
            if not self._own(link, made, part):
                linked = f" (a link to {os.readlink(link)})" if link.is_symlink() else ""
                raise GenerationError(
                    f"{link} is not a build's output{linked}: a build writes its store and dist/ where"
                    " nothing is, or over its own; name another place"
                )
        dist, store, folder = place(self.dist_link), place(self.store_link), place(home)
        own = [folder / name for name in (GENERATIONS, *beside)]
        if (
            dist in (store, folder)
            or dist in store.parents
            or any(dist == o or o in dist.parents for o in own)
        ):
            raise GenerationError(
                f"{self.dist_link}: dist/ must stand apart from the store and the build's own folders"
                f" beside it ({', '.join(str(path) for path in own)})"
            )

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One build at a time in one generations folder; the kernel drops the lock of a killed build."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "a+", encoding="utf-8") as lock:  # not emptied before it is held
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                said = f"another kg build is writing into {self.home}"
                raise GenerationError(said, exit_code=EXIT_FAILED) from None  # not the input's fault
            lock.seek(0)
            lock.truncate()
            lock.write(self.store_link.name)  # the one store these generations serve (`check_place`)
            lock.flush()
            yield

    def staging(self) -> Generation:
        """The name of a fresh folder for the next generation, which `begin` makes; it is not a
        generation until `publish` names it. Its name is new to every build, so a store an earlier
        build in this process left open (its lock is kept by path) cannot stand in the way."""
        return Generation(self.home / f".new-{os.getpid()}-{secrets.token_hex(4)}")

    def begin(self, staging: Generation) -> None:
        """Make the staging folder: named first, so that a signal landing as it is made leaves
        nothing that `discard` does not remove."""
        staging.dist.mkdir(parents=True)

    def discard(self, staging: Generation) -> None:
        _remove(staging.path)

    def publish(self, staging: Generation, content_sha256: str) -> Generation:
        """Name the staging folder as the next generation and make it current in one step."""
        _sync_tree(staging.path)
        generation = Generation(self.home / f"{self._next_number():04d}-{content_sha256[:12]}")
        os.rename(staging.path, generation.path)
        _sync_directory(self.home)
        pointer = self.home / f".{CURRENT}-{os.getpid()}"
        _remove(pointer)
        os.symlink(generation.id, pointer)
        os.replace(pointer, self.home / CURRENT)  # the one step that switches dist/ and the store together
        _sync_directory(self.home)
        self._link(self.store_link, self.home / CURRENT / "store")
        self._link(self.dist_link, self.home / CURRENT / "dist")
        return generation

    def current(self) -> Generation | None:
        target = self.home / CURRENT
        return Generation(self.home / os.readlink(target)) if target.is_symlink() else None

    def clean(self) -> list[Path]:
        """Remove what killed builds and validations left and every generation but the current and the
        previous one, and those a server still answers from (`Lease`)."""
        current = self.current()
        keep = set()
        if current is not None:
            keep.add(current.id)
            older = self._older_than(current)
            if older:
                keep.add(max(older, key=_number))
        removed = []
        for path in self.home.iterdir():
            if path.name in keep or path.name in (CURRENT, ".lock") or leased(path):
                continue
            if _number(path.name):
                self._remove_generation(path)
            else:
                _remove(path)
            removed.append(path)
        for link in (self.store_link, self.dist_link):
            for leftover in (
                path for kind in _LEFTOVERS for path in link.parent.glob(f".{link.name}.{kind}-*")
            ):
                _remove(leftover)
                removed.append(leftover)
        removed += remove_left_scratch(self.store_link.parent)
        return removed

    def retire_older(self) -> list[Path]:
        """Remove every generation older than the current one that no server answers from: those a
        build that makes the next one current would no longer keep. A build calls it while its
        writers finish, once its checks have passed, so their removal takes none of its time."""
        current = self.current()
        removed = []
        for name in self._older_than(current) if current is not None else []:
            path = self.home / name
            if not leased(path):
                self._remove_generation(path)
                removed.append(path)
        return removed

    def _remove_generation(self, path: Path) -> None:
        """Remove a generation's folder, renamed out of the way first: a removal cut short then leaves a
        hidden folder the next build removes, never part of a generation under a generation's name."""
        hidden = self.home / f".retired-{path.name}-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(path, hidden)
        _remove(hidden)

    def _older_than(self, generation: Generation) -> list[str]:
        return [name for name in os.listdir(self.home) if 0 < _number(name) < _number(generation.id)]

    def _own(self, link: Path, made: re.Pattern[str], part: str) -> bool:
        """Whether a build may write its store or dist/ at `link`: nothing is there, or a link into
        these generations (a link elsewhere, say into a web root, is the user's), or the folder of a
        build made before generations."""
        if link.is_symlink():
            target = self.home / CURRENT / part
            # as `_link` writes it (which, from a folder reached through a link, may lead nowhere)
            if os.readlink(link) == os.path.relpath(target, link.parent):
                return True
            return Path(os.path.realpath(link)).is_relative_to(os.path.realpath(self.home))
        return not link.exists() or _made_of(link, made)

    def _next_number(self) -> int:
        return max(map(_number, os.listdir(self.home)), default=0) + 1

    def _link(self, link: Path, target: Path) -> None:
        """Make `link` a relative link to `target`, replacing an older link in one step, or moving a
        folder of a build made before generations out of the way."""
        wanted = os.path.relpath(target, link.parent)
        if link.is_symlink() and os.readlink(link) == wanted:
            return
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() and not link.is_symlink():
            link.rename(link.parent / f".{link.name}.old-{os.getpid()}")
        pointer = link.parent / f".{link.name}.link-{os.getpid()}"
        _remove(pointer)
        os.symlink(wanted, pointer)
        os.replace(pointer, link)


class Lease:
    """A shared lock on a generation's folder, held while a server answers from that generation, so
    that `clean` leaves it: a server takes up a new build only once it has read it ahead, and builds
    may come faster. The kernel drops the lock of a server that ends, however it ends."""

    def __init__(self, store: Path | None) -> None:
        """Lease the generation whose store is `store` (a resolved path); a store outside generations,
        or none (an endpoint), needs none."""
        self._descriptor: int | None = None
        folder = generation_folder(store) if store is not None else None
        if folder is not None:
            self._descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)  # not inherited
            try:
                fcntl.flock(self._descriptor, fcntl.LOCK_SH)
            except OSError as error:  # a file system without locks (some network mounts)
                log.warning("serving %s without a lease on it: %s", folder, error)
                self.release()

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def leased(folder: Path) -> bool:
    """Whether a server holds a `Lease` on a generation's folder."""
    if _number(folder.name) == 0 or not folder.is_dir():
        return False
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


SCRATCH = ".validate-"  # the prefix of a scratch folder beside the store link (`held_scratch`)


@contextmanager
def held_scratch(parent: Path) -> Iterator[Path]:
    """A scratch folder made in `parent` (`kg validate FILE`'s copy of the build), locked while it is
    used and removed after: one a killed process left (364 MB at a million triples) is unlocked, and
    the next build or validation removes it (`remove_left_scratch`)."""
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=parent))
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
            yield folder
        finally:
            os.close(descriptor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_left_scratch(parent: Path) -> list[Path]:
    """Remove the scratch folders in `parent` that no process holds (`held_scratch`); on a file system
    without locks none is taken for left."""
    left = []
    for folder in parent.glob(f"{SCRATCH}*"):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held (BlockingIOError), or not to be told
            continue
        finally:
            os.close(descriptor)
        _remove(folder)
        left.append(folder)
    return left


def _number(name: str) -> int:
    """The sequence number of a generation folder's name; 0 for any other name."""
    match = _NAME.match(name)
    return int(match.group(1)) if match else 0


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _sync_tree(root: Path) -> None:
    """Flush every file and folder under `root` to disk, so a crash never names a half-written one."""
    for folder, _subfolders, files in os.walk(root):
        for name in files:
            descriptor = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        _sync_directory(Path(folder))


def _sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
