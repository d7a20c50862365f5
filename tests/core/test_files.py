"""Every write is atomic and exclusive: no symlink followed, no file replaced unless asked, nothing left on failure."""
import errno
import os
import subprocess
import sys

import pytest

from core.files import atomic_write, write_exclusive, write_new


def test_a_new_file_never_takes_an_existing_name(tmp_path):
    first = write_new(tmp_path, "grid", ".png", b"one")
    second = write_new(tmp_path, "grid", ".png", b"two")
    assert (first.name, second.name) == ("grid.png", "grid-2.png")
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"


def test_a_planted_link_is_neither_followed_nor_replaced(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.png").symlink_to(victim)
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nowhere")
    assert write_new(tmp_path, "out", ".png", b"picture").name == "out-2.png"
    assert write_new(tmp_path, "dangling", ".png", b"picture").name == "dangling-2.png"
    for force in (False, True):
        with pytest.raises(OSError):
            write_exclusive(tmp_path / "out.png", b"picture", force=force)
    assert victim.read_text() == "precious" and not (tmp_path / "nowhere").exists()


def test_an_existing_file_is_replaced_only_with_force(tmp_path):
    path = tmp_path / "att.png"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="--force"):
        write_exclusive(path, b"new")
    assert path.read_bytes() == b"old"
    write_exclusive(path, b"new", force=True)
    assert path.read_bytes() == b"new"


@pytest.mark.parametrize("write", [
    lambda folder: atomic_write(folder / "doc.json", b"x" * 10_000),
    lambda folder: write_new(folder, "session", ".md", "x" * 10_000),
])
def test_a_full_disk_leaves_nothing_under_the_real_name_and_no_temp(tmp_path, monkeypatch, write):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.files.os.fsync", full)
    with pytest.raises(OSError, match="No space"):
        write(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_in_the_middle_of_a_write_leaves_no_temp(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr("core.files.os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_new(tmp_path, "grid", ".png", b"picture")
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_folder_should_be_is_said_plainly(tmp_path):
    not_a_folder = tmp_path / "outputs"
    not_a_folder.write_text("I am a file")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder") as e:
        write_new(not_a_folder, "grid", ".png", b"x")
    assert e.value.filename == str(not_a_folder)


def test_a_killed_writers_temp_is_cleaned_at_the_next_write(tmp_path):
    """A temp file whose writer has died goes at once, however fresh; a live writer's stays."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    left = tmp_path / f".model.safetensors.{pid}-deadbeef.tmp"
    left.write_bytes(b"half a checkpoint")
    live = tmp_path / f".model.safetensors.{os.getppid()}-cafe.tmp"
    live.write_bytes(b"being written")
    atomic_write(tmp_path / "model.safetensors", b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model.safetensors", live.name])
