"""`caresim verify`: the queueing formulas against textbook values, and every check passing on the engine."""

from __future__ import annotations

import math

import pytest

from caresim.scenario.loading import load_scenario
from caresim.workflows.verify import COLUMNS, VERIFICATION, erlang_b, erlang_c, mmc_sojourn_within, run_checks
from conftest import SKC


@pytest.mark.parametrize(("servers", "load", "blocking"), [
    (1, 1.0, 0.5),
    (2, 1.0, 0.2),
    (5, 3.0, 0.110054),  # (3⁵/5!) / Σ 3ᵏ/k! = 2.025 / 18.4
    (10, 8.0, 0.121661),
])
def test_erlang_b_exact_values(servers, load, blocking):
    assert erlang_b(servers, load) == pytest.approx(blocking, abs=1e-6)


@pytest.mark.parametrize(("servers", "load"), [(5, 1.361), (10, 4.461), (20, 12.031), (50, 37.901)])
def test_erlang_b_one_percent_grade_of_service_table(servers, load):
    assert erlang_b(servers, load) == pytest.approx(0.01, rel=1e-3)


def test_erlang_b_is_stable_for_large_systems():
    assert 0 < erlang_b(10_000, 9_990) < 1
    assert erlang_b(0, 5.0) == 1.0


@pytest.mark.parametrize(("servers", "load", "waits"), [
    (1, 0.5, 0.5),  # M/M/1: P(wait) = ρ
    (2, 1.0, 1 / 3),  # M/M/2: 2ρ²/(1 + ρ) with ρ = 1/2
    (10, 8.0, 0.409180),
])
def test_erlang_c_textbook_values(servers, load, waits):
    assert erlang_c(servers, load) == pytest.approx(waits, abs=1e-6)


def test_erlang_c_refuses_an_unstable_queue():
    with pytest.raises(ValueError, match="below"):
        erlang_c(3, 3.0)


def test_sojourn_of_mm1_is_exponential_at_mu_minus_lambda():
    assert mmc_sojourn_within(1, 0.6, 1.0, 2.5) == pytest.approx(1 - math.exp(-0.4 * 2.5), abs=1e-12)


def test_sojourn_is_continuous_where_the_wait_and_service_rates_meet():
    # c = 2, λ = μ: the waiting rate cμ − λ equals μ and the formula switches to its limit
    assert mmc_sojourn_within(2, 1.0, 1.0, 1.0) == pytest.approx(mmc_sojourn_within(2, 1.0 + 1e-7, 1.0, 1.0), abs=1e-6)


@pytest.mark.parametrize("path", sorted(VERIFICATION.glob("*.yaml")), ids=lambda p: p.stem)
def test_built_in_scenarios_load(path):
    assert load_scenario(path).name.startswith("verify_")


@pytest.mark.slow
def test_every_check_passes_on_the_engine():
    table = run_checks(SKC, replications=5)
    assert list(table.columns) == COLUMNS
    assert set(table["check"]) == {"erlang_loss", "infinite_server", "arrivals", "erlang_delay", "little",
                                   "tandem_blocking"}
    failed = table[~table["passed"]]
    assert failed.empty, "\n" + failed.to_string()
