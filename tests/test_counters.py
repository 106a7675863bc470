"""Counters: each declared once with its name, counted by index, and every counter the metrics read exists."""

from __future__ import annotations

from dataclasses import replace

import pytest

from caresim.engine import counters
from caresim.engine.calendar import Calendar
from caresim.engine.model import Model
from caresim.engine.tally import Tally
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


def test_counts_go_back_by_name_and_clear_in_place(short: Scenario):
    calendar = Calendar(short.run.start, short.run.warm_up_days, short.run.days)
    tally = Tally(7.0, calendar.month, calendar.year)
    counts = tally.counts
    counts[counters.CRISES] += 1
    counts[counters.DIVERSIONS_AT["admission"]] += 2
    named = tally.by_name()
    assert named["crises"] == 1.0 and named["diversions_admission"] == 2.0
    assert sum(named.values()) == 3.0 and len(named) == len(counters.NAMES)
    tally.clear_counts()
    assert not any(counts)  # cleared in place: the parts of the journey hold these counts
    counts[counters.CRISES] += 1
    assert tally.by_name()["crises"] == 1.0


def test_a_counter_declared_twice_is_an_error():
    with pytest.raises(ValueError, match="declared twice"):
        counters._counter("crises")
    assert counters.NAMES.count("crises") == 1


def test_families_are_declared():
    assert "diversions_admission" in counters.NAMES
    assert "failed_diversions_self_presentation" in counters.NAMES
    assert "emergency_admissions_85plus" in counters.NAMES
    assert "acute_to_care_home_return" in counters.NAMES


def test_every_counter_the_metrics_read_is_one_the_engine_declares(skc: Scenario):
    scenario = shortened(skc, days=10, warm_up_days=3)
    record = Model(scenario, "baseline", (), 0).run()
    assert list(record.counts) == counters.NAMES
    reading = ReadCounts(record.counts)
    measures(replace(record, counts=reading), scenario, ())
    assert reading.read - set(counters.NAMES) == set()
