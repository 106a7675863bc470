"""`caresim verify`: the engine checked against queueing theory, as part of the product.

Each check runs a small built-in scenario (``caresim/workflows/verification/*.yaml``) through the same plan,
executor and ``run_replication`` as a user's run and compares what the engine recorded with theory:
Erlang B, M/G/∞, the arrival rate function, Erlang C, Little's law on a full scenario, and Ciw
for blocking after service. A row passes when the theoretical value lies inside the 99 % confidence
interval of the replication mean, widened by a small stated relative tolerance; each row's note says
what is compared and why its tolerance is what it is.
"""

from __future__ import annotations

import datetime as dt
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from caresim.analysis.checks import LITTLE_TOLERANCE, little_frame
from caresim.engine.calendar import Calendar
from caresim.engine.demand import COLUMN, community_candidates
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan
from caresim.experiment.replication import WorldResult
from caresim.metrics import DAYS_PER_YEAR
from caresim.scenario.distributions import Exponential
from caresim.scenario.fields import AGE_BANDS
from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario

VERIFICATION = Path(__file__).resolve().parent / "verification"
LEVEL = 0.99
COLUMNS = ["check", "quantity", "theory", "simulated", "ci_low", "ci_high", "n", "passed", "note"]
FOUR_HOURS = 4.0
LITTLE_REPLICATIONS = 4
LITTLE_LONG_STAY = 0.1  # skip services whose mean stay is over a tenth of the window
Row = dict[str, object]


# ----------------------------------------------------------------- theory
def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` (erlangs), by the stable recursion."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``load`` < ``servers``."""
    if not 0 <= load < servers:
        raise ValueError(f"M/M/c needs offered load below the {servers} servers, not {load:g}")
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


def mmc_sojourn_within(servers: int, arrival_rate: float, service_rate: float, t: float) -> float:
    """P(wait + service ≤ t) in M/M/c, first come first served: the wait is 0 with probability 1 − C and
    otherwise exponential at rate cμ − λ, independent of the exponential service."""
    waits = erlang_c(servers, arrival_rate / service_rate)
    theta = servers * service_rate - arrival_rate
    if math.isclose(theta, service_rate):
        both = (1 + service_rate * t) * math.exp(-service_rate * t)
    else:
        both = (theta * math.exp(-service_rate * t) - service_rate * math.exp(-theta * t)) / (theta - service_rate)
    return 1 - ((1 - waits) * math.exp(-service_rate * t) + waits * both)


def crises_per_day(scenario: Scenario) -> float:
    """Mean community crises a day, from the population and rates (no care-home residents, tiers averaging 1)."""
    rates = scenario.demand.crisis_rate_per_person_year
    return sum(scenario.population.adults(band) * rates[band] for band in AGE_BANDS) / DAYS_PER_YEAR


def expected_by_hour_of_week(scenario: Scenario) -> np.ndarray:
    """Expected crises in the measured window by weekday (Monday first) and hour, from the profile."""
    run, profile = scenario.run, scenario.demand.profile
    hourly, weekday, monthly = (np.array(p) / np.mean(p) for p in (profile.hourly, profile.weekday, profile.monthly))
    origin = run.start - dt.timedelta(days=run.warm_up_days)
    expected = np.zeros((7, 24))
    for day in range(run.warm_up_days, run.warm_up_days + run.days):
        date = origin + dt.timedelta(days=day)
        expected[date.weekday()] += weekday[date.weekday()] * monthly[date.month - 1] * hourly / 24
    return expected * crises_per_day(scenario)


def arrivals_by_hour_of_week(scenario: Scenario, replication: int) -> np.ndarray:
    """Crises the engine keeps in the measured window, by weekday and hour: its own candidates and keep rule."""
    run = scenario.run
    candidates = community_candidates(scenario, Calendar(run.start, run.warm_up_days, run.days), replication)
    kept = candidates.rows[:, COLUMN["keep"]] < candidates.accept
    times = candidates.time[kept]
    times = times[times >= run.warm_up_days]
    day = times.astype(int)
    weekday = ((run.start - dt.timedelta(days=run.warm_up_days)).weekday() + day) % 7
    counts = np.zeros((7, 24))
    np.add.at(counts, (weekday, ((times - day) * 24).astype(int)), 1)
    return counts


# ----------------------------------------------------------------- running and judging
def _percent(share: float) -> str:
    return f"{share * 100:g} %"


def _interval(values: np.ndarray) -> tuple[float, float, int]:
    """Mean, standard error and count of replication values."""
    n = len(values)
    mean = float(np.mean(values)) if n else math.nan
    se = float(np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return mean, se, n


def _row(check: str, quantity: str, theory: float, values: list[float], tolerance: float, why: str, note: str,
         theory_se: float = 0.0) -> Row:
    """Passes when ``theory`` lies in the 99 % t interval of the mean of ``values``, widened by
    ``tolerance``·|theory|; a theory with its own standard error (another simulator) widens the interval too."""
    mean, se, n = _interval(np.asarray(values, dtype=float))
    half = float(stats.t.ppf((1 + LEVEL) / 2, n - 1) * math.hypot(se, theory_se)) if n > 1 else math.nan
    slack = tolerance * abs(theory)
    passed = bool(abs(theory - mean) <= half + slack)
    rule = f"Passes if theory lies in the {_percent(LEVEL)} CI widened by {_percent(tolerance)} of theory: {why}"
    return dict(check=check, quantity=quantity, theory=theory, simulated=mean, ci_low=mean - half,
                ci_high=mean + half, n=n, passed=passed, note=f"{note} {rule}.")


def _baseline(scenario: Scenario, replications: int, progress: bool, description: str) -> list[WorldResult]:
    plan = Plan(scenario, {BASELINE: ()}, replications, ())
    return [worlds[0] for worlds in execute(plan, progress=progress, description=description)]


def _load(name: str) -> Scenario:
    return load_scenario(VERIFICATION / name)


# ----------------------------------------------------------------- the checks
def check_erlang_loss(replications: int, progress: bool) -> list[Row]:
    """M/M/c/c: share turned away against Erlang B, and beds occupied against the carried load."""
    s = _load("erlang_loss.yaml")
    beds = s.services.acute_beds
    load = crises_per_day(s) * beds.length_of_stay["18-64"].mean
    blocking = erlang_b(int(beds.capacity), load)
    results = _baseline(s, replications, progress, "Erlang loss")
    turned_away = [w.measures["acute_turned_away"] / w.measures["emergency_admissions"] for w in results]
    occupied = [w.little["acute_beds"][0] for w in results]
    setting = f"{beds.capacity} beds, offered load {load:g} erlangs, exponential stays, turn away when full."
    why = f"a margin only, as {s.run.warm_up_days} mean stays of warm-up leave no measurable start-up transient"
    return [
        _row("erlang_loss", "share of admissions turned away (Erlang B)", blocking, turned_away, 0.01, why,
             f"{setting} Engine: acute_turned_away / emergency_admissions."),
        _row("erlang_loss", "mean occupied beds = a(1 − B)", load * (1 - blocking), occupied, 0.01, why,
             f"{setting} Engine: time-average occupancy."),
    ]


def check_infinite_server(replications: int, progress: bool) -> list[Row]:
    """M/G/∞ with long-tailed stays: occupancy is Poisson with mean λE[S]."""
    s = _load("infinite_server.yaml")
    stay = s.services.acute_beds.length_of_stay["18-64"]
    mean = crises_per_day(s) * stay.mean
    results = _baseline(s, replications, progress, "M/G/∞")
    occupied = [w.little["acute_beds"][0] for w in results]
    spread = [float(np.mean((w.daily["acute_beds"] - mean) ** 2)) for w in results]
    setting = f"Unlimited beds, {stay}, cv {stay.cv:g}; warm start from {s.services.acute_beds.initial_occupancy}."
    return [
        _row("infinite_server", "mean occupied beds = λE[S]", mean, occupied, 0.01,
             "a margin only, as residual stays drawn length-biased give the stationary mean from the start",
             f"{setting} Engine: time-average occupancy."),
        _row("infinite_server", "variance of daily occupancy = λE[S] (Poisson)", mean, spread, 0.03,
             "a margin for the Poisson spread a fixed warm-start count lacks, which has died out long before the "
             "warm-up ends",
             f"{setting} Engine: mean square of the midnight counts about λE[S] (the known mean, so the strong "
             "day-to-day correlation does not bias it)."),
    ]


def check_arrivals(replications: int, progress: bool) -> list[Row]:
    """Non-homogeneous Poisson arrivals: crises by hour of week against the rate function."""
    s = _load("arrivals.yaml")
    results = _baseline(s, replications, progress, "Arrivals")
    expected = expected_by_hour_of_week(s)
    counts = [arrivals_by_hour_of_week(s, w.replication) for w in results]
    model = [w.measures["crises"] * s.run.days / DAYS_PER_YEAR for w in results]
    same = all(math.isclose(c.sum(), m, abs_tol=1e-6) for c, m in zip(counts, model, strict=True))
    pooled, cells = sum(counts), expected.size
    chi_square = float((((pooled - len(counts) * expected) ** 2) / (len(counts) * expected)).sum())
    low, high = stats.chi2.ppf([(1 - LEVEL) / 2, (1 + LEVEL) / 2], cells)
    p_value = float(stats.chi2.sf(chi_square, cells))
    reproduced = ("the candidates and keep rule reproduce the model's crisis count in every replication" if same
                  else "FAILED: the reproduced keep rule does not give the model's crisis count")
    total = _row("arrivals", "crises in the window (model count)", float(expected.sum()), model, 0.0,
                 "none, as the count is exactly Poisson",
                 f"Hourly profile varying 40-fold, weekday 3-fold; {reproduced}.")
    total["passed"] = total["passed"] and same
    fit = dict(check="arrivals", quantity=f"chi-square, crises by hour of week pooled ({cells} cells)",
               theory=float(cells), simulated=chi_square, ci_low=float(low), ci_high=float(high), n=len(counts),
               passed=bool(same and low <= chi_square <= high),
               note=f"Poisson counts in {cells} hours of the week against the rate function, p = {p_value:.3f}. "
                    f"Theory is the chi-square mean (its degrees of freedom); the interval is the central "
                    f"{_percent(LEVEL)} of chi-square({cells}), and the statistic must lie in it.")
    return [total, fit]


def check_erlang_delay(replications: int, progress: bool) -> list[Row]:
    """M/M/c A&E: share within 4 hours from Erlang C, and cubicles occupied against the offered load."""
    s = _load("erlang_delay.yaml")
    ae = s.services.ae
    arrivals_per_hour = crises_per_day(s) / 24
    service_rate = 1 / ae.time_discharged_hours.mean
    cubicles = int(ae.cubicles)
    load = arrivals_per_hour / service_rate
    within = mmc_sojourn_within(cubicles, arrivals_per_hour, service_rate, FOUR_HOURS)
    results = _baseline(s, replications, progress, "Erlang delay")
    setting = (f"{cubicles} cubicles, exponential {ae.time_discharged_hours.mean:g} h, offered load {load:g} "
               f"erlangs, P(wait) = {erlang_c(cubicles, load):.4f} (Erlang C).")
    why = f"a margin only, as the {s.run.warm_up_days}-day warm-up is many times the queue's relaxation time"
    return [
        _row("erlang_delay", "share leaving A&E within 4 hours", within,
             [w.measures["ae_4h_percent"] / 100 for w in results], 0.01, why,
             f"{setting} Theory: wait (none, or exponential at rate cμ − λ) plus service within 4 h. "
             "Engine: ae_4h_percent."),
        _row("erlang_delay", "mean occupied cubicles = λ/μ", load, [w.little["ae_cubicles"][0] for w in results],
             0.01, why, f"{setting} Engine: time-average occupancy."),
    ]


def check_little(replications: int, progress: bool, scenario_file: Path) -> list[Row]:
    """Little's law on every service of a full scenario's baseline, through the product's own ``little_frame``."""
    s = load_scenario(scenario_file)
    results = _baseline(s, min(replications, LITTLE_REPLICATIONS), progress, f"Little's law ({s.name})")
    t99 = stats.t.ppf((1 + LEVEL) / 2, len(results) - 1) if len(results) > 1 else math.nan
    rows, skipped = [], []
    for service in little_frame([[w] for w in results]).itertuples():
        rate = float(np.mean([w.little[service.service][1] for w in results]))
        if rate <= 0 or service.time_average_occupied / rate > LITTLE_LONG_STAY * s.run.days:
            skipped.append(service.service)
            continue
        mean, se, n = _interval(np.array([w.little[service.service][0] for w in results]))
        rows.append(dict(
            check="little", quantity=f"{service.service}: time-average occupancy = arrival rate × mean stay",
            theory=service.arrival_rate_times_stay, simulated=mean, ci_low=mean - t99 * se, ci_high=mean + t99 * se,
            n=n, passed=bool(service.within_5_percent)))
    note = (f"{s.name} baseline, {s.run.days} days after a {s.run.warm_up_days}-day warm-up. Little's law is a "
            f"sample-path identity, so {LITTLE_REPLICATIONS} replications suffice; passes if λW is within "
            f"{_percent(LITTLE_TOLERANCE)} of the mean occupancy (little_frame), as window edges bias λW down by "
            f"about cv²·W/T. Skipped, stays over {_percent(LITTLE_LONG_STAY)} of the window: "
            f"{', '.join(skipped) or 'none'}.")
    return [{**row, "note": note} for row in rows]


def ciw_tandem(scenario: Scenario, seed: int) -> tuple[float, float]:
    """Mean patients blocked in acute beds and mean acute beds occupied, from Ciw's model of the same tandem."""
    import ciw

    services, run = scenario.services, scenario.run
    acute, step_down = services.acute_beds.length_of_stay["18-64"], services.intermediate_care_beds.length_of_stay
    if not isinstance(acute, Exponential) or not isinstance(step_down, Exponential):
        raise ValueError("the Ciw comparison needs exponential stays")
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(crises_per_day(scenario)), None],
        service_distributions=[ciw.dists.Exponential(1 / acute.mean), ciw.dists.Exponential(1 / step_down.mean)],
        routing=[[0.0, 1.0], [0.0, 0.0]],
        number_of_servers=[int(services.acute_beds.capacity), int(services.intermediate_care_beds.capacity)],
        queue_capacities=[float("inf"), 0],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    start, end = float(run.warm_up_days), float(run.warm_up_days + run.days)
    simulation.simulate_until_max_time(end + 10 * (acute.mean + step_down.mean))

    def inside(a: float, b: float) -> float:
        return max(0.0, min(b, end) - max(a, start))

    records = [r for r in simulation.get_all_records() if r.node == 1]
    blocked = sum(inside(r.service_end_date, r.exit_date) for r in records) / run.days
    occupied = sum(inside(r.service_start_date, r.exit_date) for r in records) / run.days
    return blocked, occupied


def check_tandem(replications: int, progress: bool) -> list[Row]:
    """Acute beds → step-down beds with blocking after service, against Ciw run with its own seeds."""
    s = _load("tandem_blocking.yaml")
    results = _baseline(s, replications, progress, "Blocking (engine)")
    seeds = range(max(replications, 2))
    with ProcessPoolExecutor() as pool:
        ciw_runs = np.array(list(pool.map(ciw_tandem, [s] * len(seeds), seeds)))
    engine = {"blocked": [w.measures["delayed_days_community_bed"] / DAYS_PER_YEAR for w in results],
              "occupied": [w.little["acute_beds"][0] for w in results]}
    setting = (f"{s.services.acute_beds.capacity} acute beds → {s.services.intermediate_care_beds.capacity} "
               f"step-down beds, exponential stays, {crises_per_day(s):g} a day; Ciw with queue capacity 0 at "
               f"step-down, {len(seeds)} seeds")
    rows = []
    for column, (key, quantity) in enumerate((("blocked", "mean patients blocked awaiting a step-down bed"),
                                              ("occupied", "mean occupied acute beds (treated + blocked)"))):
        reference, reference_se, _ = _interval(ciw_runs[:, column])
        measured = "delayed days, reason community_bed, per day" if key == "blocked" else "time-average occupancy"
        rows.append(_row("tandem_blocking", quantity, reference, engine[key], 0.02,
                         "a margin only, as both simulators measure the same window after the same warm-up",
                         f"{setting}. Theory is Ciw's mean; the CI also carries Ciw's standard error "
                         f"({reference_se:.3g}). Engine: {measured}.", theory_se=reference_se))
    return rows


def run_checks(scenario_file: Path, replications: int = 10, progress: bool = False) -> pd.DataFrame:
    """Every check, one row per compared quantity: theory, simulated mean with its 99 % CI, and a verdict."""
    rows = [
        *check_erlang_loss(replications, progress),
        *check_infinite_server(replications, progress),
        *check_arrivals(replications, progress),
        *check_erlang_delay(replications, progress),
        *check_little(replications, progress, scenario_file),
        *check_tandem(replications, progress),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
