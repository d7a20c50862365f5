"""Documents on disk: lossless JSON, crash-safe autosave, reopening, exports that never overwrite."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.files import STALE_SECONDS, atomic_write
from core.text.desk.document import Document
from core.text.desk.recorder import Recorder
from core.text.desk.store import (
    DocumentError,
    autosave,
    autosave_path,
    export_markdown,
    export_tree,
    from_dict,
    load_document,
    open_document,
    save_document,
    to_dict,
)
from core.text.sampling import SamplerSettings

ROOT_DIR = Path(__file__).resolve().parent.parent


def dumps(doc: Document) -> str:
    return json.dumps(to_dict(doc))


@pytest.fixture(scope="session")
def rich_document(type_text, generate):
    def rich_document() -> Document:
        """Every kind of node, a mid-run settings change, non-ASCII text, a stop, several branches."""
        doc = Document()
        type_text(doc, "Ла нuit — “quiet”")
        first = generate(doc, [" and", " then", "\n\n", " more"], stop=["\n\n"])
        first.generation.changes.append((1, dict(first.generation.settings, temperature=0.3)))
        generate(doc, [" so"], sibling=True)
        doc.choose_alternative(first, 1, 2)
        generate(doc, [" é", "🙂"])
        doc.edit(2, 4, "XY")
        type_text(doc, " end")
        doc.go_to(first)
        doc.go_parent()
        return doc

    return rich_document


def test_json_round_trip_is_lossless(tmp_path, rich_document):
    doc = rich_document()
    text = dumps(doc)
    back = from_dict(json.loads(text))
    assert dumps(back) == text
    assert back.current.id == doc.current.id and back.text == doc.text
    for (depth, a), (depth_b, b) in zip(doc.walk(), back.walk(), strict=True):
        assert (depth, a.id, a.kind, a.pieces, a.generation, a.source) == (depth_b, b.id, b.kind, b.pieces,
                                                                           b.generation, b.source)
        assert doc.branch_text(a) == back.branch_text(b)
    assert back.go_child() and back.current.id == doc.current.focus.id  # the way down survives too
    path = save_document(doc, tmp_path / "d.json")
    assert dumps(load_document(path)) == text
    assert first_generated(back).generation.changes == [(1, dict(first_generated(doc).generation.settings,
                                                                  temperature=0.3))]


def test_a_snapshot_does_not_follow_later_changes(generation, steps, rich_document):
    doc = rich_document()
    node = doc.start_generation(generation())
    recorder = Recorder(node, SamplerSettings(seed=7))
    more = steps([" one", " two", " three"])
    recorder.add(more[0])
    snapshot = to_dict(doc)  # taken mid-generation, as an autosave on a timer would
    text = json.dumps(snapshot)
    recorder.add(more[1])
    recorder.add(more[2])
    recorder.finish()
    doc.edit(0, 1, "")
    assert json.dumps(snapshot) == text != dumps(doc)
    assert from_dict(snapshot).nodes[node.id].text == " one"


def first_generated(doc: Document):
    return next(n for _, n in doc.walk() if n.generation is not None)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.update(version=2), "version 2"),
    (lambda d: d.update(schema="other"), "not an Inkhorn document"),
    (lambda d: d["nodes"][1].update(parent=999), "damaged"),
    (lambda d: d["nodes"][2]["pieces"].append([1, 2]), "piece"),
    (lambda d: d["nodes"][2].update(kind="poem"), "kind"),
    (lambda d: d.update(current=12345), "damaged"),
])
def test_a_damaged_document_is_refused_with_a_reason(damage, message, rich_document):
    data = to_dict(rich_document())
    damage(data)
    with pytest.raises(DocumentError, match=message):
        from_dict(data)


def test_autosave_reopens_the_last_document(tmp_path, monkeypatch, rich_document):
    monkeypatch.setenv("INKHORN_DATA_DIR", str(tmp_path))
    empty, notes = open_document("hemingway")
    assert empty.text == "" and notes == [] and not autosave_path("hemingway").exists()
    doc = rich_document()
    assert autosave(doc, "hemingway") == autosave_path("hemingway") == tmp_path / "documents" / "hemingway.json"
    again, notes = open_document("hemingway")
    assert notes == [] and dumps(again) == dumps(doc)
    with pytest.raises(ValueError):
        autosave_path("../etc")


def test_a_damaged_autosave_is_kept_aside_and_a_new_document_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_DATA_DIR", str(tmp_path))
    path = autosave_path("anna")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": "inkhorn-document", "vers')
    doc, notes = open_document("anna")
    assert doc.text == "" and len(notes) == 1 and "kept it as" in notes[0]
    kept = list(path.parent.glob("anna.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == '{"schema": "inkhorn-document", "vers'
    assert not path.exists()


def test_a_crash_before_the_rename_leaves_the_old_file(tmp_path, monkeypatch, type_text, rich_document):
    path = tmp_path / "doc.json"
    old = rich_document()
    save_document(old, path)
    before = path.read_bytes()
    new = Document()
    type_text(new, "something else")

    def crash(*args):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        save_document(new, path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
    monkeypatch.undo()
    monkeypatch.setattr(os, "fsync", crash)  # the disk fails while the new text is written
    with pytest.raises(OSError):
        save_document(new, path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]
    monkeypatch.undo()
    save_document(new, path)
    assert load_document(path).text == "something else"


KILLED_WRITER = """
import sys
from core.files import atomic_write
path, a, b = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
print("ready", flush=True)
while True:
    atomic_write(path, a)
    atomic_write(path, b)
"""


def test_a_killed_writer_leaves_the_old_or_the_new_file_never_a_broken_one(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"text": "a" * 3_000_000}))  # big enough that a kill lands mid-write
    b.write_text(json.dumps({"text": "b" * 2_000_000}))
    contents = {a.read_bytes(), b.read_bytes()}
    target = tmp_path / "out" / "doc.json"
    atomic_write(target, a.read_bytes())
    env = dict(os.environ, PYTHONPATH=str(ROOT_DIR))
    for delay in (0.05, 0.11, 0.17, 0.23, 0.29):
        writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), str(a), str(b)],
                                  stdout=subprocess.PIPE, env=env)
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        assert target.read_bytes() in contents
    temps = list(target.parent.glob(".doc.json.*.tmp"))
    old = time.time() - STALE_SECONDS - 1
    for tmp in temps:
        os.utime(tmp, (old, old))
    fresh = target.parent / ".doc.json.1-fresh.tmp"
    fresh.write_text("being written by another process")
    atomic_write(target, b"{}")
    assert sorted(target.parent.iterdir()) == sorted([target, fresh])  # stale temps cleaned, a fresh one kept


def test_a_symbolic_link_is_never_written_through(tmp_path, rich_document):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "doc.json"
    link.symlink_to(victim)
    with pytest.raises(OSError, match="symbolic link"):
        save_document(rich_document(), link)
    assert victim.read_text() == "precious" and link.is_symlink()


def test_exports_never_overwrite(tmp_path, monkeypatch, rich_document):
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(tmp_path))
    doc = rich_document()
    doc.go_child()
    first = export_markdown(doc, "hemingway")
    first.write_text("the writer's own notes")
    second = export_markdown(doc, "hemingway")
    assert first != second and first.read_text() == "the writer's own notes"
    markdown = second.read_text()
    assert markdown.startswith(doc.text.rstrip("\n")) and "hemingway (sha256 abababababab), seed 7" in markdown
    trees = [export_tree(doc, "hemingway"), export_tree(doc, "hemingway")]
    assert len(set(trees)) == 2 and all(p.parent == tmp_path for p in trees)
    assert dumps(load_document(trees[1])) == dumps(doc)
