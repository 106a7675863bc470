"""The evidence ledger: for each scheme effect, the study behind its size and the distribution drawn.

A scenario names its ledger with ``evidence: library/evidence.yaml`` (relative to the scenario file);
an effect names an entry with ``evidence: <id>`` and, when it gives no size of its own, takes the
entry's: a ratio is drawn log-normal and a share beta, both fitted to the published estimate and its
95 % CI; an assumption or a mechanism with no evaluation ("none") is drawn over its stated range.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from caresim.scenario.fields import Frozen
from caresim.scenario.schemes import Uncertain

EvidenceId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
DRAWN_AS = {"ratio": ("lognormal",), "share": ("beta",), "assumption": ("triangular", "uniform", "lognormal", "beta"),
            "none": ("triangular", "uniform")}


class EvidenceEntry(Frozen):
    """One ledger entry. For a ratio or a share, estimate and ci_low/ci_high are the published figure
    and its 95 % CI; for an assumption or "none" (no evaluation of the mechanism) they are the point
    value and the range drawn, which for "none" includes no effect."""

    study: str = Field(description="The study's public name, or why there is none.")
    year: int | None = Field(default=None, ge=1900, le=2100, description="Year of publication.")
    population: str
    outcome: str = Field(description="The outcome the study measured.")
    estimate: float
    ci_low: float
    ci_high: float
    kind: Literal["ratio", "share", "assumption", "none"]
    mechanism: str = Field(description="How the estimate maps onto the model's mechanism, in one sentence.")
    distribution: Literal["triangular", "uniform", "lognormal", "beta"]

    @model_validator(mode="after")
    def _drawable(self) -> EvidenceEntry:
        allowed = DRAWN_AS[self.kind]
        if self.distribution not in allowed:
            raise ValueError(f"a {self.kind} is drawn {' or '.join(allowed)}, not {self.distribution}")
        _ = self.size  # the size must be drawable: its checks raise here, at load
        return self

    @property
    def size(self) -> Uncertain:
        """The effect size this entry gives an effect that names it."""
        return Uncertain(value=self.estimate, low=self.ci_low, high=self.ci_high, distribution=self.distribution)


Ledger = dict[EvidenceId, EvidenceEntry]
