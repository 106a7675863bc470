"""Fit declared free parameters so the baseline meets its calibration targets.

Each free parameter (one or more numbers scaled together) is paired with one target measure. Each
round runs the baseline and scales the numbers by target ÷ achieved (within the declared bounds),
a fixed-point iteration that converges when each measure rises with its parameter. The fitted
values are written back beside their source comments, so the file stays readable and sourced.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from caresim.analysis.checks import calibration_frame
from caresim.analysis.summary import replications_frame, summary_frame
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan
from caresim.scenario.loading import resolve, validate
from caresim.scenario.schema import Scenario
from caresim.scenario.yaml_source import SourceMap

STEP_LIMIT = (0.5, 2.0)
NUMBER = re.compile(r"-?\d+(\.\d*)?([eE][-+]?\d+)?")


@dataclass
class Calibration:
    scenario: Scenario
    data: dict[str, Any]
    source_map: SourceMap
    changed: dict[tuple[str, ...], float]
    report: pd.DataFrame
    history: pd.DataFrame


def _split(path: str) -> tuple[str | int, ...]:
    """A dotted parameter path; a whole-number part indexes a list (``discharge.profile.weekday.5``)."""
    return tuple(int(part) if part.isdigit() else part for part in path.split("."))


def _lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _get(data: Any, path: tuple[str | int, ...]) -> float:
    return float(_lookup(data, path))


def _set(data: Any, path: tuple[str | int, ...], value: float) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def baseline_summary(scenario: Scenario, replications: int, executor: str, progress: bool,
                     description: str) -> pd.DataFrame:
    plan = Plan(scenario, {BASELINE: ()}, replications, mixes=())
    results = execute(plan, executor, progress=progress, description=description)
    return summary_frame(replications_frame(results, scenario.name, scenario.run.seed), scenario.name, None, ())


def calibrate(scenario_file: Path, replications: int | None = None, iterations: int | None = None,
              executor: str = "processes", progress: bool = True) -> Calibration:
    data, source_map = resolve(scenario_file)
    scenario = validate(Scenario, data, source_map)
    settings = scenario.calibration
    replications = replications or settings.replications
    targets = {t.measure: t.target for t in scenario.targets}
    for free in settings.free_parameters:
        if free.measure not in targets:
            raise ValueError(f"calibration parameter {free.paths[0]} aims at {free.measure!r}, which has no target; "
                             f"targets: {', '.join(targets)}")
        for path in free.paths:
            try:
                _get(data, _split(path))
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"calibration parameter {path!r} does not name a number in the scenario") from None
    original = {_split(p): _lookup(data, _split(p)) for f in settings.free_parameters for p in f.paths}
    history = []
    for round_number in range(1, (iterations or settings.iterations) + 1):
        summary = baseline_summary(scenario, replications, executor, progress, f"Calibration round {round_number}")
        achieved = summary[summary["world"] == BASELINE].set_index("measure")["mean"]
        for free in settings.free_parameters:
            value = achieved.get(free.measure, float("nan"))
            factor = targets[free.measure] / value if value and value == value else 1.0
            factor = min(max(factor ** (-1 if free.decreasing else 1), STEP_LIMIT[0]), STEP_LIMIT[1])
            history.append((round_number, free.measure, targets[free.measure], value, factor))
            for path in free.paths:
                parts = _split(path)
                value = min(max(_get(data, parts) * factor, free.low), free.high)
                _set(data, parts, round(value) if isinstance(original[parts], int) else value)
        scenario = validate(Scenario, data, source_map)
    summary = baseline_summary(scenario, replications, executor, progress, "Calibration check")
    changed = {path: _get(data, path) for path in original if _get(data, path) != original[path]}
    history_frame = pd.DataFrame(history, columns=["round", "measure", "target", "achieved", "factor"])
    return Calibration(scenario, data, source_map, changed, calibration_frame(scenario, summary), history_frame)


def write_reports(calibration: Calibration, out_root: Path) -> Path:
    """Write the final check against the targets and the rounds of fitting under ``out_root/<scenario>/``;
    return the path of the report."""
    report_file = Path(out_root) / calibration.scenario.name / "calibration-report.csv"
    report_file.parent.mkdir(parents=True, exist_ok=True)
    calibration.report.to_csv(report_file, index=False)
    calibration.history.to_csv(report_file.with_name("calibration-rounds.csv"), index=False)
    return report_file


def _format(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def write_in_place(calibration: Calibration) -> list[Path]:
    """Replace each fitted number where it is written, keeping the comments beside it."""
    edits: dict[str, list[tuple[int, int, float]]] = {}
    for path, value in calibration.changed.items():
        location = calibration.source_map.values[path]
        edits.setdefault(location.file, []).append((location.line, location.column, value))
    for file, items in edits.items():
        lines = Path(file).read_text(encoding="utf-8").split("\n")
        for line, column, value in sorted(items, key=lambda item: (item[0], -item[1])):
            text = lines[line - 1]
            match = NUMBER.match(text, column - 1)
            if match is None:
                raise ValueError(f"{file}:{line}: could not find the number to replace")
            lines[line - 1] = text[: match.start()] + _format(value) + text[match.end():]
        Path(file).write_text("\n".join(lines), encoding="utf-8")
    return [Path(f) for f in edits]


def write_overrides(calibration: Calibration, scenario_file: Path, output: Path) -> Path:
    """A short scenario that extends the original and overrides only the fitted numbers."""
    lines = [f"# Calibrated by `caresim calibrate` from {scenario_file.name}; each value is 'calibrated'.",
             f"extends: {os.path.relpath(Path(scenario_file).resolve(), output.resolve().parent)}"]
    tree: dict = {}
    for path, value in calibration.changed.items():
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    def emit(node: dict, indent: int) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                lines.append(f"{' ' * indent}{key}:")
                emit(value, indent + 2)
            else:
                lines.append(f"{' ' * indent}{key}: {_format(value)}   # calibrated")

    emit(tree, 0)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return output
