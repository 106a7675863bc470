"""Counter names: the engine writes only declared counters, and every counter the metrics read exists."""

from __future__ import annotations

from dataclasses import replace

import pytest

from caresim.engine import counters
from caresim.engine.model import Model
from caresim.engine.tally import Counts
from caresim.metrics import measures
from caresim.scenario.schema import Scenario
from conftest import shortened


class ReadCounts(dict[str, float]):
    """Counts that remember every name read from them."""

    def __init__(self, counts: dict[str, float]) -> None:
        super().__init__(counts)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> float:
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: float | None = None) -> float | None:  # type: ignore[override]
        self.read.add(name)
        return super().get(name, default)


def test_an_undeclared_counter_is_an_error():
    counts = Counts()
    counts[counters.CRISES] += 1
    assert counts == {"crises": 1.0}
    with pytest.raises(KeyError, match="declare it in caresim/engine/counters.py"):
        counts["crisis"] += 1


def test_families_are_declared():
    assert "diversions_admission" in counters.COUNTERS
    assert "failed_diversions_self_presentation" in counters.COUNTERS
    assert "emergency_admissions_85plus" in counters.COUNTERS
    assert "acute_to_care_home_return" in counters.COUNTERS


def test_every_counter_the_metrics_read_is_one_the_engine_declares(skc: Scenario):
    scenario = shortened(skc, days=10, warm_up_days=3)
    record = Model(scenario, "baseline", (), 0).run()
    assert set(record.counts) <= counters.COUNTERS
    reading = ReadCounts(record.counts)
    measures(replace(record, counts=reading), scenario, ())
    assert reading.read - counters.COUNTERS == set()
