"""What the writer set last, kept across starts: sampler settings, stop strings, banned phrases,
named sampler presets and the theme, in the user config folder.

The file is checked value by value when it is read: a damaged or hand-edited file gives the
defaults for what is wrong, with a note saying what and why, never a traceback. A file that is
not readable at all is kept under a new name so the next save does not destroy it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import platformdirs

from core.catalog import environ
from core.files import atomic_write, set_aside
from core.text.sampling import SamplerSettings

VERSION = 1
STYLE = ("temperature", "top_k", "top_p", "min_p", "repetition_penalty")  # what a preset sets

# Presets change how the model writes, not how much or with which seed.
SHIPPED_PRESETS = {
    "balanced": {key: getattr(SamplerSettings(), key) for key in STYLE},  # the defaults
    "focused": {"temperature": 0.5, "top_k": 20, "top_p": 0.9, "min_p": 0.0, "repetition_penalty": 1.1},
    "wild": {"temperature": 1.2, "top_k": 0, "top_p": 1.0, "min_p": 0.05, "repetition_penalty": 1.0},
}


def config_dir() -> Path:
    """$INKHORN_CONFIG_DIR, else the user config folder (e.g. ~/.config/inkhorn)."""
    return Path(environ("INKHORN_CONFIG_DIR") or platformdirs.user_config_dir("inkhorn"))


def preferences_path() -> Path:
    return config_dir() / "settings.json"


@dataclass
class Preferences:
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    presets: dict[str, dict] = field(default_factory=dict)  # the writer's own; shipped ones are not stored
    theme: str | None = None
    stop: list[str] = field(default_factory=list)
    banned: list[str] = field(default_factory=list)

    def preset_names(self) -> list[str]:
        return list(SHIPPED_PRESETS) + sorted(self.presets)

    def _style(self, name: str) -> dict:
        style = SHIPPED_PRESETS.get(name) or self.presets.get(name)
        if style is None:
            raise KeyError(f"no preset named '{name}'")
        return style

    def apply_preset(self, name: str, settings: SamplerSettings) -> None:
        """Set the style of `settings` in place (a running generation reads the same object)."""
        for key, value in self._style(name).items():
            setattr(settings, key, value)

    def preset_of(self, settings: SamplerSettings) -> str | None:
        """The first preset whose style `settings` have, if any."""
        return next((name for name in self.preset_names()
                     if all(abs(getattr(settings, key) - value) < 1e-9 for key, value in self._style(name).items())),
                    None)

    def save_preset(self, name: str, settings: SamplerSettings) -> None:
        name = name.strip()
        if not name or len(name) > 40:
            raise ValueError("a preset name has 1 to 40 characters")
        if name in SHIPPED_PRESETS:
            raise ValueError(f"'{name}' is a shipped preset: choose another name")
        settings.validate()
        self.presets[name] = {key: getattr(settings, key) for key in STYLE}

    def remove_preset(self, name: str) -> None:
        if name in SHIPPED_PRESETS:
            raise ValueError(f"'{name}' is a shipped preset and cannot be removed")
        if self.presets.pop(name, None) is None:
            raise KeyError(f"no preset named '{name}'")

    def to_dict(self) -> dict:
        return {"version": VERSION, "sampler": self.sampler.to_dict(), "presets": self.presets,
                "theme": self.theme, "stop": self.stop, "banned": self.banned}


_KEYS = {f.name for f in fields(SamplerSettings)}


def _settings(raw: dict, base: SamplerSettings) -> tuple[SamplerSettings, dict[str, str]]:
    """`base` with each valid value of `raw` taken, and what was refused: setting -> why."""
    settings, refused = base, {}
    for key, value in raw.items():
        if key not in _KEYS:
            refused[key] = f"unknown setting '{key}' ignored"
            continue
        try:
            settings = replace(settings, **{key: value}).validate()
        except ValueError as e:
            refused[key] = f"{key} = {value!r} refused ({e})"
    return settings, refused


def _strings(raw, where: str, notes: list[str]) -> list[str]:
    if isinstance(raw, list) and all(isinstance(s, str) and s for s in raw):
        return list(raw)
    notes.append(f"{where} must be a list of non-empty strings: none kept")
    return []


def _parse(data: dict, notes: list[str]) -> Preferences:
    prefs = Preferences()
    sampler = data.get("sampler", {})
    if isinstance(sampler, dict):
        prefs.sampler, refused = _settings(sampler, prefs.sampler)
        notes += [f"sampler: {why}" + (f"; using {getattr(prefs.sampler, key)!r}" if key in _KEYS else "")
                  for key, why in refused.items()]
    else:
        notes.append("sampler is not a table of settings: using the defaults")
    presets = data.get("presets", {})
    if not isinstance(presets, dict):
        notes.append("presets is not a table: none kept")
        presets = {}
    for name, raw in presets.items():
        if name in SHIPPED_PRESETS:
            notes.append(f"preset '{name}' dropped: that name belongs to a shipped preset")
            continue
        if not isinstance(raw, dict) or not set(raw) <= set(STYLE):
            notes.append(f"preset '{name}' dropped: a preset sets only {', '.join(STYLE)}")
            continue
        style, refused = _settings(raw, SamplerSettings(**SHIPPED_PRESETS["balanced"]))
        if refused:
            notes.append(f"preset '{name}' dropped: {'; '.join(refused.values())}")
        else:
            prefs.presets[name] = {key: getattr(style, key) for key in STYLE}
    theme = data.get("theme")
    if theme is None or (isinstance(theme, str) and theme):
        prefs.theme = theme
    else:
        notes.append(f"theme {theme!r} is not a theme name: using the default theme")
    for key in ("stop", "banned"):
        if key in data:
            setattr(prefs, key, _strings(data[key], key, notes))
    return prefs


def load_preferences(path: Path | None = None) -> tuple[Preferences, list[str]]:
    """The saved preferences (defaults where there are none) and notes on anything refused."""
    path = path if path is not None else preferences_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Preferences(), []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return Preferences(), [f"settings file {path} cannot be read ({e}): using defaults; {_keep(path)}"]
    if not isinstance(data, dict) or data.get("version") != VERSION:
        version = data.get("version") if isinstance(data, dict) else None
        note = f"settings file {path} is not version {VERSION} settings (version {version!r})"
        return Preferences(), [f"{note}: using defaults; {_keep(path)}"]
    notes: list[str] = []
    prefs = _parse(data, notes)
    return prefs, [f"settings file {path}: {note}" for note in notes]


def _keep(path: Path) -> str:
    try:
        return f"the file is kept as {set_aside(path)}"
    except OSError as e:
        return f"it could not be moved aside ({e}) and will be overwritten at the next save"


def save_preferences(prefs: Preferences, path: Path | None = None) -> Path:
    path = path if path is not None else preferences_path()
    return atomic_write(path, (json.dumps(prefs.to_dict(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
