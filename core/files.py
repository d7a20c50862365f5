"""Writing files so that nothing is lost.

A replaced file is written beside itself and moved over the old one in one step, so a crash
leaves the old file or the new one, never a broken one. A new file (an export) never takes the
name of one already there. No torch here: the app saves documents before torch is imported.
"""
from __future__ import annotations

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


def clean_stale_temps(path: Path) -> None:
    """Remove the temp files a killed writer of `path` left behind (never a link, never a fresh one:
    another process may be writing it right now)."""
    cutoff = time.time() - STALE_SECONDS
    for tmp in _temp_files(path):
        try:
            if not tmp.is_symlink() and tmp.is_file() and tmp.stat().st_mtime < cutoff:
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


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Replace `path` with `data`: temp file in the same folder, fsync, rename, fsync of the folder.
    A symbolic link at `path` is refused rather than written through."""
    path = Path(path)
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link; not writing through it")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
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


def write_new(folder: str | Path, stem: str, suffix: str, text: str) -> Path:
    """Write `text` to a file that did not exist (stem.suffix, else stem-2.suffix, ...); return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in free_names(folder, stem, suffix):
        try:
            with open(path, "x", encoding="utf-8") as f:  # "x": fails rather than overwrite
                f.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free file name for {stem}{suffix} in {folder}")


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


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
