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
        pool = self.from_uniform(rng.random(20 * n + 1000))
        weights = pool / pool.sum()
        return rng.choice(pool, size=n, p=weights)


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

