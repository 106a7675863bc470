"""Distributions as small validated objects: sample, mean, and a readable description.

Each is sampled by inverse transform from a pre-drawn uniform (or standard normal), so a patient's
draws are fixed on arrival and a scheme can change what happens to the patient, never the draws.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator
from scipy.special import ndtri


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Values for uniforms in (0, 1); lognormal uses the normal quantile of ``u``."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    def length_biased(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws weighted by their own length: the stays of patients found in a service at a given moment."""
        pool = self.from_uniform(rng.random(_pool_size(n)))
        weights = pool / pool.sum()
        return rng.choice(pool, size=n, p=weights)

    @property
    def pooled(self) -> bool:
        """Whether ``length_biased`` picks from a pool of draws (a fixed count of uniforms a draw)."""
        return True


def _pool_size(n: int) -> int:
    return 20 * n + 1000


def remaining_stays(rng: np.random.Generator, distributions: list[_Distribution]) -> list[float]:
    """What is left of the stays of patients found part-way through them, one for each distribution in turn:
    a uniform share of a length-biased stay, ``rng.random() * d.length_biased(rng, 1)[0]`` patient by patient.

    When every distribution picks from a pool, all are drawn at once from the same uniforms, in the same order,
    with the same arithmetic as ``Generator.choice`` (a cumulative sum, then the first value above the uniform),
    so the numbers are those of the one-by-one draws at a fraction of the cost."""
    if not all(d.pooled for d in distributions):  # a closed form draws a variable count of normals: one by one
        return [float(rng.random() * d.length_biased(rng, 1)[0]) for d in distributions]
    n, size = len(distributions), _pool_size(1)
    u = rng.random((n, size + 2))  # each patient's share, pool and pick, as the one-by-one draws take them
    pools = np.empty((n, size))
    for distribution in {id(d): d for d in distributions}.values():
        rows = [i for i, d in enumerate(distributions) if d is distribution]
        pools[rows] = distribution.from_uniform(u[rows, 1:-1])
    cdf = np.cumsum(pools / pools.sum(axis=1, keepdims=True), axis=1)
    cdf /= cdf[:, -1:]
    picked = (cdf <= u[:, -1:]).sum(axis=1)  # searchsorted(cdf, pick, side="right"), as choice does
    return (u[:, 0] * pools[np.arange(n), picked]).tolist()


class Fixed(_Distribution):
    distribution: Literal["fixed"]
    value: float = Field(ge=0)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)

    @property
    def mean(self) -> float:
        return self.value

    def __str__(self) -> str:
        return f"fixed {self.value:g}"


class Exponential(_Distribution):
    distribution: Literal["exponential"]
    mean_value: PositiveFloat = Field(alias="mean")

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_value * np.log1p(-np.asarray(u))

    @property
    def mean(self) -> float:
        return self.mean_value

    def __str__(self) -> str:
        return f"exponential, mean {self.mean_value:g}"


class Uniform(_Distribution):
    distribution: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must not be below low ({self.low:g})")
        return self

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def __str__(self) -> str:
        return f"uniform {self.low:g} to {self.high:g}"


class Triangular(_Distribution):
    distribution: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("needs low ≤ mode ≤ high with low < high")
        return self

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u)
        a, c, b = self.low, self.mode, self.high
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def __str__(self) -> str:
        return f"triangular {self.low:g}/{self.mode:g}/{self.high:g}"


SAME_DAY = 0.5  # days: a same-day stay lasts a uniform part of the first 12 hours


class Lognormal(_Distribution):
    """Long-tailed stays, given as mean and coefficient of variation, or as median and sigma; optionally a
    share of them ending the same day (the lowest uniforms), the rest lognormal with that mean or median."""

    distribution: Literal["lognormal"]
    mean_value: PositiveFloat | None = Field(default=None, alias="mean")
    cv: PositiveFloat | None = None
    median: PositiveFloat | None = None
    sigma: PositiveFloat | None = None
    same_day_share: float = Field(default=0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_form(self) -> Lognormal:
        by_mean = self.mean_value is not None and self.cv is not None
        by_median = self.median is not None and self.sigma is not None
        if by_mean == by_median or (by_mean and (self.median or self.sigma)):
            raise ValueError("give either 'mean' and 'cv', or 'median' and 'sigma'")
        return self

    @property
    def mu_sigma(self) -> tuple[float, float]:
        if self.median is not None:
            return math.log(self.median), float(self.sigma)
        sigma = math.sqrt(math.log1p(self.cv**2))
        return math.log(self.mean_value) - sigma**2 / 2, sigma

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self.mu_sigma
        u, short = np.asarray(u), self.same_day_share
        if not short:
            return np.exp(mu + sigma * ndtri(u))
        same_day = u < short
        rest = np.exp(mu + sigma * ndtri(np.where(same_day, 0.5, (u - short) / (1 - short))))
        return np.where(same_day, SAME_DAY * u / short, rest)

    @property
    def pooled(self) -> bool:
        return bool(self.same_day_share)

    def length_biased(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.same_day_share:
            return super().length_biased(rng, n)
        mu, sigma = self.mu_sigma  # length-biased lognormal is lognormal(mu + sigma², sigma)
        return np.exp(mu + sigma**2 + sigma * rng.standard_normal(n))

    @property
    def mean(self) -> float:
        mu, sigma = self.mu_sigma
        return self.same_day_share * SAME_DAY / 2 + (1 - self.same_day_share) * math.exp(mu + sigma**2 / 2)

    def __str__(self) -> str:
        mu, sigma = self.mu_sigma
        same_day = f", {self.same_day_share:.0%} the same day" if self.same_day_share else ""
        return f"lognormal, mean {self.mean:.3g}, median {math.exp(mu):.3g}{same_day}"


Distribution = Annotated[
    Fixed | Exponential | Uniform | Triangular | Lognormal, Field(discriminator="distribution")
]

