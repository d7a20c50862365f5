"""Writing files so that nothing is lost.

Every file Inkhorn writes goes through here. A replaced file is written beside itself and moved
over the old one in one step, so a crash or a full disk leaves the old file or the new one, never a
broken one. A new file (an export, a picture) is written the same way and then linked to its name,
which fails rather than take the name of a file already there. No write follows a symbolic link.
No torch here: the app saves documents before torch is imported.
"""
from __future__ import annotations

import errno
import hashlib
import os
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

TEMP_SUFFIX = ".tmp"
STALE_SECONDS = 60  # a write takes milliseconds: a temp file this old was left by a process that died


def _temp_files(path: Path) -> Iterator[Path]:
    return path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}")


def _writer_gone(tmp: Path) -> bool:
    """Whether the process named in a temp file's name (.NAME.PID-RANDOM.tmp) has ended."""
    pid = tmp.name[:-len(TEMP_SUFFIX)].rsplit(".", 1)[-1].split("-", 1)[0]
    if os.name == "nt" or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # alive under another user, or not a pid at all
        return False
    return False


def clean_stale_temps(path: Path) -> None:
    """Remove the temp files a killed writer of `path` left behind: those of a process that has ended,
    and any old enough that no write can still be going on (never a link, never a fresh one of a live
    process: it may be writing it right now)."""
    cutoff = time.time() - STALE_SECONDS
    for tmp in _temp_files(path):
        try:
            if not tmp.is_symlink() and tmp.is_file() and (tmp.stat().st_mtime < cutoff or _writer_gone(tmp)):
                tmp.unlink()
        except FileNotFoundError:  # another process cleaned it first
            pass


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; Windows cannot open a folder for fsync."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_folder(folder: Path) -> None:
    """Create `folder` (and its parents); a file in the way is said plainly."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder: choose another folder", str(folder))
    folder.mkdir(parents=True, exist_ok=True)


def atomic_write(path: str | Path, data: bytes, replace: bool = True, mode: int = 0o600) -> Path:
    """Write `data` to `path`: temp file in the same folder, fsync, rename (or, with replace=False, a
    hard link that fails with FileExistsError rather than take the name of a file already there),
    fsync of the folder. `mode` is the new file's permissions, less the umask. A symbolic link at `path` is refused rather than written through; a failed
    write (a full disk, Ctrl+C) leaves no temp file and nothing under the real name."""
    path = Path(path)
    if path.is_symlink():
        raise OSError(errno.ELOOP, "it is a symbolic link; not writing through it", str(path))
    make_folder(path.parent)
    clean_stale_temps(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # the name is taken only if nobody holds it
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def free_names(folder: Path, stem: str, suffix: str) -> Iterator[Path]:
    """stem.suffix, stem-2.suffix, ...: the names to try, in order, for a file that must be new."""
    yield folder / f"{stem}{suffix}"
    for n in range(2, 10_000):
        yield folder / f"{stem}-{n}{suffix}"


def write_new(folder: str | Path, stem: str, suffix: str, data: str | bytes) -> Path:
    """Write `data` (text is written as UTF-8) to a file that did not exist (stem.suffix, else
    stem-2.suffix, ...), atomically; return its path."""
    folder = Path(folder)
    data = data.encode("utf-8") if isinstance(data, str) else data
    for path in free_names(folder, stem, suffix):
        if path.exists() or path.is_symlink():
            continue
        try:
            return atomic_write(path, data, replace=False, mode=0o666)
        except FileExistsError:  # taken between the look and the write
            continue
    raise FileExistsError(f"no free file name for {stem}{suffix} in {folder}")


def write_exclusive(path: str | Path, data: bytes, force: bool = False) -> Path:
    """Write `data` to `path`, atomically; a file already there is replaced only with `force`."""
    try:
        return atomic_write(path, data, replace=force, mode=0o666)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "it already exists; pass --force to replace it", str(path)) from None


def set_aside(path: Path) -> Path:
    """Move a file that cannot be read out of the way under a new name, so the next save does not
    destroy what the user may still want from it; return the new name."""
    stem = f"{path.stem}.damaged-{datetime.now():%Y%m%d-%H%M%S}"
    for target in free_names(path.parent, stem, path.suffix):
        try:
            os.link(path, target)  # fails rather than replace a file already there
        except FileExistsError:
            continue
        path.unlink()
        return target
    raise FileExistsError(f"no free file name for {stem}{path.suffix} in {path.parent}")


def is_file(path: str | Path) -> bool:
    """Whether `path` names a file; a name too long or too odd to be a path names none (Path.is_file
    raises for some of those)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
