"""A run's loss curves: points appended to a JSON-lines log as training goes, plotted to a PNG at the end.

The log lives in the run folder beside the sample grids, so a killed and
resumed run still plots the whole run (a stretch repeated after a resume is
plotted once: the later point for a step wins).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from core.files import atomic_write


class RunLog:
    def __init__(self, path: Path, fresh: bool = False, writes: bool = True):
        self.path = Path(path)
        self.writes = writes  # False on all but the first of several training processes
        if not writes:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fresh and self.path.exists():
            self.path.unlink()

    def add(self, step: int, split: str, **values: float) -> None:
        if not self.writes:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, "split": split, **{k: float(v) for k, v in values.items()}}) + "\n")

    def series(self, split: str, key: str) -> list[tuple[int, float]]:
        if not self.path.exists():
            return []
        points: dict[int, float] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            point = json.loads(line)
            if point["split"] == split and key in point:
                points[point["step"]] = point[key]
        return sorted(points.items())


def plot(log: RunLog, out: Path, title: str, panels: list[tuple[str, list[tuple[str, str, str]]]]) -> Path:
    """One subplot per panel (panel title, [(split, key, label), ...]); writes `out` and returns it."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a training machine
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (panel, lines) in zip(axes[0], panels):
        for split, key, label in lines:
            points = log.series(split, key)
            if points:
                steps, values = zip(*points)
                ax.plot(steps, values, label=label, marker="o" if split == "valid" else None, markersize=3)
        ax.set_title(panel)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return atomic_write(out, buffer.getvalue(), mode=0o666)  # the run's own picture, redrawn each run
