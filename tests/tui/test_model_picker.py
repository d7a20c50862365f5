"""The text panes' model picker (ctrl+l): a run under runs/ and a local GPT-2 folder are picked, load
through the pane's worker and stream into the same document, each span naming the weights that wrote it."""
from __future__ import annotations

import pytest

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.files import file_sha256
from tui.app import InkhornApp
from tui.widgets.desk_editor import printable
from tui.widgets.dialogs import ModelDialog

pytest.importorskip("transformers")


async def pick(pilot, wait_for, name: str) -> ModelDialog:
    """Open the picker with its key and take `name` with the arrows and Enter, as a writer would."""
    await pilot.press("ctrl+l")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModelDialog))
    dialog = pilot.app.screen
    picks = dialog.query_one("#models")
    target = next(i for i, m in enumerate(dialog.models) if m.name == name)
    while picks.highlighted != target:
        await pilot.press("down" if picks.highlighted < target else "up")
    await pilot.press("enter")
    return dialog


async def test_a_run_and_a_gpt2_folder_are_picked_and_stream(checkpoint_dir, tmp_path, monkeypatch, tiny_gpt,
                                                             tiny_tokenizer, write_gpt2_folder, wait_for, ready_pane,
                                                             generate):
    run = tmp_path / "runs" / "mine" / "gpt.safetensors"  # $INKHORN_RUNS is tmp_path / "runs"
    save_checkpoint(run, Checkpoint("gpt", tiny_gpt.config.to_dict(), state_tensors(tiny_gpt),
                                    tokenizer=tiny_tokenizer.model_bytes))
    folder = tmp_path / "tiny-gpt2"
    write_gpt2_folder(folder)
    monkeypatch.setenv("INKHORN_GPT2", str(tmp_path / "gone"))  # asked for, not there: listed, not pickable
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-cache"))  # the machine's own cache stays out of it
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    app = InkhornApp(gpt2_folders=[str(folder)])
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=10)
        await pilot.press(*"The sun")
        shipped = await generate(pilot, pane)

        dialog = await pick(pilot, wait_for, str(run))
        assert [(m.name, m.problem is None) for m in dialog.models] == [
            ("Hemingway", True), (str(run), True), ("tiny-gpt2", True), ("gone", False)]
        await wait_for(pilot, lambda: pane.state == "ready" and pane.lm.path == run)
        assert "mine/gpt" in app.query_one("#status").render().plain  # the run's folder: not a shipped name
        from_run = await generate(pilot, pane)
        assert from_run.parent is shipped and len(from_run.pieces) == 10
        assert from_run.generation.model == "mine/gpt" and from_run.generation.model_sha256 == file_sha256(run)

        await pick(pilot, wait_for, "tiny-gpt2")
        await wait_for(pilot, lambda: pane.state == "ready" and pane.lm.name == "tiny-gpt2")
        from_gpt2 = await generate(pilot, pane)
        assert from_gpt2.parent is from_run and from_gpt2.text
        assert from_gpt2.generation.model_sha256 == file_sha256(folder / "model.safetensors")
        assert pane.doc.text.startswith("The sun" + shipped.text + from_run.text)
        assert pane.editor.text == printable(pane.doc.text)

        await pick(pilot, wait_for, "Hemingway")  # back: loaded already, nothing loads again
        assert pane.state == "ready" and pane.lm.name == "hemingway"
