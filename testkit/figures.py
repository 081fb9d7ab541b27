"""The figures a benchmark reports, kept so that `make bench` can put each beside its floor and the last
recorded one (issue 25: approval, render and fan-out became 2-70x slower without anyone noticing).

A benchmark calls ``report(...)`` for each headline figure, after printing its own table as it always has.
Run by bench/run_all.py, the figures go to the file named by BENCH_FIGURES_FILE (one JSON object a line);
run alone, they are only printed. run_all.py then compares them with bench/figures-last.json.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

FIGURES_FILE_VARIABLE = "BENCH_FIGURES_FILE"


@dataclass(frozen=True)
class Figure:
    name: str  # "<benchmark>.<what>", stable across runs: the key of the comparison
    value: float
    unit: str
    better: Literal["higher", "lower"]
    floor: float | None = None  # the floor: a value on its wrong side fails
    # How far from the last recorded value a figure may move the wrong way before it is called a
    # regression, as a share of that value: speed figures on a shared 2-core machine wander by 10-20 %.
    tolerance: float = 0.25
    load: float = 0.0  # the 1-minute load average when it was measured

    def meets_floor(self) -> bool:
        if self.floor is None:
            return True
        return self.value >= self.floor if self.better == "higher" else self.value <= self.floor

    def regressed_from(self, last: float) -> bool:
        """Worse than LAST by more than the tolerance: a share of LAST, or of one unit when LAST is 0
        (so a count that must stay 0, tolerance 0, regresses at its first 1)."""
        margin = (abs(last) if last else 1.0) * self.tolerance
        return self.value < last - margin if self.better == "higher" else self.value > last + margin


def report(
    name: str,
    value: float,
    unit: str,
    *,
    better: Literal["higher", "lower"],
    floor: float | None = None,
    tolerance: float = 0.25,
) -> Figure:
    """Print FIGURE's line and, under bench/run_all.py, keep it for the comparison."""
    figure = Figure(name, float(value), unit, better, floor, tolerance, round(os.getloadavg()[0], 2))
    floor_text = "" if floor is None else f" (floor {'>=' if better == 'higher' else '<='} {floor:g})"
    print(f"FIGURE {name} = {figure.value:.4g} {unit}{floor_text}, load {figure.load:.2f}", flush=True)
    target = os.environ.get(FIGURES_FILE_VARIABLE)
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(figure)) + "\n")
    return figure


def read_figures(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def compare(figures: list[Figure], last: dict) -> tuple[list[str], list[str], list[str]]:
    """The guard's table of FIGURES against LAST (bench/figures-last.json's content): the names of the
    figures that regressed, of those below their floor, and the table's lines to print."""
    if not figures:
        return [], [], []
    recorded = last.get("figures", {})
    lines = [f"\n===== figures beside their floors and the last recorded ({last.get('commit', 'none')}) ====="]
    header = f"{'figure':42} {'now':>9} {'unit':7} {'floor':>8} {'last':>9} {'change':>7} {'load':>5}  verdict"
    lines += [header, "-" * len(header)]
    regressed, below = [], []
    for figure in figures:
        previous = recorded.get(figure.name)
        last_value = previous["value"] if previous else None
        change = f"{100 * (figure.value - last_value) / abs(last_value):+.0f}%" if last_value else ""
        verdicts = []
        if not figure.meets_floor():
            verdicts.append("below floor")
            below.append(figure.name)
        if last_value is not None and figure.regressed_from(last_value):
            verdicts.append(f"REGRESSED (last measured at load {previous.get('load', 0):.2f})")
            regressed.append(figure.name)
        floor = "" if figure.floor is None else f"{'>=' if figure.better == 'higher' else '<='}{figure.floor:g}"
        last_text = "" if last_value is None else f"{last_value:.4g}"
        lines.append(
            f"{figure.name:42} {figure.value:>9.4g} {figure.unit:7} {floor:>8} {last_text:>9} {change:>7} "
            f"{figure.load:5.2f}  {', '.join(verdicts) or 'ok'}"
        )
    missing = sorted(set(recorded) - {figure.name for figure in figures})
    if missing:
        lines.append(f"not measured this run (recorded before): {', '.join(missing)}")
    return regressed, below, lines


def recorded_with(figures: list[Figure], last: dict, *, commit: str) -> dict:
    """LAST with FIGURES' values put in (figures not measured this time keep their last value)."""
    kept = dict(last.get("figures", {}))
    kept.update({figure.name: {"value": figure.value, "unit": figure.unit, "load": figure.load} for figure in figures})
    return {
        "commit": commit,
        "recorded_at": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "figures": dict(sorted(kept.items())),
    }
