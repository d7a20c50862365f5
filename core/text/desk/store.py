"""Documents on disk: the whole tree as versioned JSON, autosaved atomically into the user data
folder and reopened at the next start; exports of the current branch (Markdown) and of the tree
(JSON) that never overwrite a file.

Schema, version 1:
  {"schema": "inkhorn-document", "version": 1, "current": id, "next_id": n,
   "nodes": [{"id", "parent" (null for the root), "kind", "pieces", "generation" (or null),
              "source" (or null), "focus" (or null)}, ...]}
nodes come parents first, each node's children in order. A piece is [text] when typed and
[text, probability, [[alternative, probability], ...]] when generated.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

import platformdirs

from core.catalog import environ, output_dir
from core.files import atomic_write, clean_stale_temps, set_aside, write_new
from core.text.desk.document import (
    CHOICE,
    EDITED,
    GENERATED,
    KINDS,
    ROOT,
    WRITTEN,
    Document,
    Generation,
    Node,
    Piece,
)

SCHEMA = "inkhorn-document"
VERSION = 1
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class DocumentError(ValueError):
    """A document file that cannot be read, and why."""


def data_dir() -> Path:
    """$INKHORN_DATA_DIR, else the user data folder (e.g. ~/.local/share/inkhorn)."""
    return Path(environ("INKHORN_DATA_DIR") or platformdirs.user_data_dir("inkhorn"))


def autosave_path(name: str) -> Path:
    """Where the document of `name` (a pane: "hemingway", "anna") is autosaved."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"'{name}' is not a document name (lower-case letters, digits, - and _)")
    return data_dir() / "documents" / f"{name}.json"


def _piece(piece: Piece) -> list:
    if not piece.generated:
        return [piece.text]
    return [piece.text, piece.prob, piece.alternatives]  # json writes the tuples as lists


def to_dict(doc: Document) -> dict:
    nodes = [doc.root] + [node for _, node in doc.walk()]
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "current": doc.current.id,
        "next_id": doc.next_id,
        "nodes": [{
            "id": n.id,
            "parent": n.parent.id if n.parent is not None else None,
            "kind": n.kind,
            "pieces": [_piece(p) for p in n.pieces],
            "generation": asdict(n.generation) if n.generation is not None else None,
            "source": n.source,
            "focus": n.focus.id if n.focus is not None else None,
        } for n in nodes],
    }


def _read_piece(raw) -> Piece:
    if not isinstance(raw, list) or len(raw) not in (1, 3) or not isinstance(raw[0], str):
        raise DocumentError(f"a piece must be [text] or [text, probability, alternatives], not {raw!r:.80}")
    if len(raw) == 1:
        return Piece(raw[0])
    text, prob, alternatives = raw
    try:
        return Piece(text, float(prob), tuple((str(t), float(p)) for t, p in alternatives))
    except (TypeError, ValueError) as e:
        raise DocumentError(f"a generated piece is damaged: {raw!r:.80}") from e


def _read_generation(raw) -> Generation | None:
    if raw is None:
        return None
    names = {f.name for f in fields(Generation)}
    if not isinstance(raw, dict) or not {"model", "model_sha256", "settings", "device"} <= set(raw) <= names:
        raise DocumentError(f"a generation record is damaged: {raw!r:.80}")
    generation = Generation(**raw)
    if not isinstance(generation.settings, dict) or not all(
            isinstance(v, list) for v in (generation.stop, generation.banned, generation.changes)):
        raise DocumentError(f"a generation record is damaged: {raw!r:.80}")
    generation.changes = [(int(index), dict(settings)) for index, settings in generation.changes]
    return generation


def from_dict(data: dict) -> Document:
    """The Document that to_dict wrote; DocumentError saying what is wrong otherwise."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise DocumentError("not an Inkhorn document")
    if data.get("version") != VERSION:
        raise DocumentError(f"document version {data.get('version')!r}: this Inkhorn reads version {VERSION}")
    doc = Document()
    doc.nodes = {}
    focus = {}
    try:
        for raw in data["nodes"]:
            node = Node(int(raw["id"]), raw["kind"], [_read_piece(p) for p in raw["pieces"]],
                        generation=_read_generation(raw["generation"]), source=raw["source"])
            if node.kind not in KINDS or node.id in doc.nodes:
                raise DocumentError(f"node {node.id} has kind {node.kind!r} or a duplicate id")
            if raw["parent"] is None:
                if node.kind != ROOT or doc.nodes:
                    raise DocumentError("the first node, and only it, must be the root")
                doc.root = node
            else:
                node.parent = doc.nodes[raw["parent"]]  # a KeyError: the parent is missing or comes later
                node.parent.children.append(node)
            if (node.kind == GENERATED) != (node.generation is not None):
                raise DocumentError(f"node {node.id}: only a generated node has a generation record")
            doc.nodes[node.id] = node
            focus[node] = raw["focus"]
        for node, child in focus.items():
            node.focus = doc.nodes[child] if child is not None else None
        doc.current = doc.nodes[data["current"]]
        doc.next_id = int(data["next_id"])
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, DocumentError):
            raise
        raise DocumentError(f"the document is damaged ({type(e).__name__}: {e})") from e
    if not doc.nodes or doc.next_id <= max(doc.nodes):
        raise DocumentError("the document is damaged (node ids)")
    return doc


def write_document(data: dict, path: Path) -> Path:
    """Write a to_dict snapshot to `path` atomically: a crash leaves the old file or the new one.
    A snapshot shares nothing mutable with its document, so it can be taken between two changes
    and written from another thread."""
    return atomic_write(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def save_document(doc: Document, path: Path) -> Path:
    return write_document(to_dict(doc), path)


def autosave(doc: Document, name: str) -> Path:
    return save_document(doc, autosave_path(name))


def load_document(path: Path) -> Document:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DocumentError(f"cannot read {path}: {e}") from e
    return from_dict(data)


def open_document(name: str) -> tuple[Document, list[str]]:
    """The last autosaved document of `name`, or a new one; the notes say what went wrong, if
    anything. A file that cannot be read is kept under a new name, never overwritten."""
    path = autosave_path(name)
    if not path.exists():
        return Document(), []
    clean_stale_temps(path)
    try:
        return load_document(path), []
    except DocumentError as e:
        try:
            kept = f"kept it as {set_aside(path)}"
        except OSError as move_error:
            kept = f"could not move it aside ({move_error}); it will be overwritten"
        return Document(), [f"{e}; started a new document and {kept}"]


SETTING_LABELS = {
    "temperature": "temperature",
    "top_k": "top-k",
    "top_p": "top-p",
    "min_p": "min-p",
    "repetition_penalty": "repetition penalty",
    "max_new_tokens": "max new tokens",
}


def _settings_line(settings: dict) -> str:
    parts = []
    for key, label in SETTING_LABELS.items():
        value = settings.get(key)
        if key == "temperature" and value == 0:
            parts.append("temperature 0 (greedy)")
        else:
            parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    return " · ".join(parts)


_WHO = {
    WRITTEN: "typed by the writer",
    EDITED: "edited by the writer (the tokens it kept come from earlier generations)",
    CHOICE: "tokens of an earlier generation, the last one chosen by the writer",
}


def to_markdown(doc: Document) -> str:
    """The current branch as plain text, then where each part of it came from."""
    lines = [doc.text.rstrip("\n"), "", "---", ""]
    pos = 0
    for node in doc.branch():
        end = pos + len(node.text)
        g = node.generation
        if g is not None:
            changes = f", {len(g.changes)} change(s) while generating" if g.changes else ""
            lines.append(f"- characters {pos}–{end}: {g.model} (sha256 {g.model_sha256[:12]}), "
                         f"seed {g.settings.get('seed')}, {_settings_line(g.settings)}{changes}")
        elif node.text:
            lines.append(f"- characters {pos}–{end}: {_WHO[node.kind]}")
        pos = end
    return "\n".join(lines) + "\n"


def _stem(name: str) -> str:
    return f"{name}-{datetime.now():%Y%m%d-%H%M%S}"


def export_markdown(doc: Document, name: str, folder: Path | None = None) -> Path:
    """The current branch as Markdown in `folder` (default: the outputs folder), under a new name."""
    return write_new(folder if folder is not None else output_dir(), _stem(name), ".md", to_markdown(doc))


def export_tree(doc: Document, name: str, folder: Path | None = None) -> Path:
    """The whole tree as JSON (the autosave schema, indented) in `folder`, under a new name."""
    text = json.dumps(to_dict(doc), ensure_ascii=False, indent=1)
    return write_new(folder if folder is not None else output_dir(), _stem(name), ".json", text)
