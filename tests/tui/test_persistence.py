"""Nothing is lost: the document autosaves and reopens, also after the app is killed; settings,
presets and theme are kept across two app instances."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from core.catalog import ROOT
from core.files import file_sha256
from core.text.desk.store import autosave_path, load_document
from tui.app import InkhornApp
from tui.widgets.desk_editor import printable
from tui.widgets.sampler_bar import FIELDS

# typed into a real app in a process of its own, which is then killed: it never gets to save on the way out
WRITER = """
import asyncio, sys
from tui.app import InkhornApp

async def main():
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one("HemingwayPane")
        while pane.state != "ready":
            await pilot.pause(0.05)
        pane.settings.max_new_tokens = 12
        await pilot.press(*"It was late", "ctrl+g")
        while pane.running or pane.doc.current.kind != "generated":
            await pilot.pause(0.05)
        print("generated", flush=True)
        n = 0
        while True:  # keep writing: the kill lands while the autosave is busy
            n += 1
            await pilot.press(*f" {n}")
            await pilot.pause(0.01)

asyncio.run(main())
"""


def test_autosave_survives_a_killed_app_and_reopens(checkpoint_dir, tmp_path, wait_for):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "generated"
        time.sleep(1.5)  # an autosave at least, typing all the while
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    saved = load_document(autosave_path("hemingway"))  # whole: the file was always replaced in one step
    assert saved.text.startswith("It was late") and " 1 2" in saved.text
    node = next(node for _, node in saved.walk() if node.kind == "generated")
    g = node.generation
    assert len(node.pieces) == 12 and g.model_sha256 == file_sha256(checkpoint_dir / "hemingway.safetensors")
    assert g.settings["seed"] is not None and g.settings["max_new_tokens"] == 12 and g.ended == "length"

    async def reopen():
        app = InkhornApp()
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.query_one("HemingwayPane")
            await pilot.pause()
            assert pane.doc.text == saved.text and pane.editor.text == printable(saved.text)
            assert pane.editor.offset == len(saved.text)  # the cursor at the end, where the writer was
            assert any("reopened" in str(n.message) for n in app._notifications)

    import asyncio

    asyncio.run(reopen())


async def test_quitting_saves_what_the_last_autosave_missed(checkpoint_dir, tmp_path, ready_pane, monkeypatch):
    import tui.panes.text_pane

    monkeypatch.setattr(tui.panes.text_pane, "AUTOSAVE_SECONDS", 60.0)  # however slowly the keys arrive
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"Just typed")
        assert not autosave_path("hemingway").exists()  # the autosave waits a moment after a change
        await pilot.press("ctrl+q")
    assert load_document(autosave_path("hemingway")).text == "Just typed"


async def test_settings_presets_and_theme_persist_across_two_app_instances(checkpoint_dir, tmp_path, ready_pane,
                                                                         type_text):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("tab", "right_square_bracket", "right_square_bracket", "equals_sign")  # temp 1.0, top-k 100
        await pilot.press("left", "enter")  # the preset field: save these settings under a name
        await type_text(pilot, "late night")
        await pilot.press("enter")
        assert "late night" in app.preferences.presets
        await pilot.press("right", "down")  # temperature 0.9: no preset now
        assert "preset custom" in str(app.query_one("SamplerBar").render())
        app.theme = "gruvbox"
        await pilot.press("ctrl+q")
    saved = json.loads((tmp_path / "config" / "settings.json").read_text())
    assert saved["presets"]["late night"]["temperature"] == 1.0 and saved["theme"] == "gruvbox"

    again = InkhornApp()
    async with again.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=300)
        assert again.theme == "gruvbox"
        s = pane.settings
        assert (round(s.temperature, 2), s.top_k) == (0.9, 100)  # the last settings, restored
        bar = again.query_one("SamplerBar")
        await pilot.press("tab", *["left"] * (FIELDS.index("temp") - FIELDS.index("preset")))
        order = again.preferences.preset_names()
        assert order[-1] == "late night"
        await pilot.press("up")  # from custom, the first preset; down from there wraps to the last, the writer's
        await pilot.press("down")
        assert again.preferences.preset_of(s) == "late night" and "preset late night" in str(bar.render())
        assert round(s.temperature, 2) == 1.0
