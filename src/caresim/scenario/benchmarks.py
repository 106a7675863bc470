"""External benchmarks for a whole scheme mix: a published or planned change in one measure, as a range.

A scenario names its benchmark file with ``benchmarks: library/benchmarks.yaml`` (relative to the scenario
file), read into its entries at load. The modelled change (mix − baseline, paired) is marked inside or
outside each range.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, model_validator

from caresim.scenario.fields import Frozen


class Benchmark(Frozen):
    """A range for the change a scheme mix makes to one measure: in percent of the baseline, or in counts of a
    stated population (scaled to the scenario's). A missing end is unbounded."""

    title: str = Field(description="What the benchmark is, for readers.")
    source: str = Field(description="The publication or plan it comes from, with the figure.")
    measure: str = Field(description="The measure whose change is compared.")
    change: Literal["percent", "count"]
    low: float | None = None
    high: float | None = None
    population: PositiveFloat | None = Field(default=None, description="For a count: the population it is of.")

    @model_validator(mode="after")
    def _range(self) -> Benchmark:
        if self.low is None and self.high is None:
            raise ValueError("a benchmark needs a low or a high end")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if (self.change == "count") != (self.population is not None):
            raise ValueError("a count gives the population it is of, and only a count does")
        return self
