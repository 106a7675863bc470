"""Speed and scale of caresim, measured in one run and printed as tables (run as ``python -m benchmarks``).

    python -m benchmarks            # full: 100-replication SKC experiment, full-length scaling runs (~7 min)
    python -m benchmarks --quick    # fast: 4 replications extrapolated to 100, shortened scaling runs
    python -m benchmarks --markdown # also print the tables as Markdown, for docs/performance.md

Single-process figures are CPU seconds of this process (the machine may be shared, so wall time
would measure the neighbours too); the SKC experiment is wall time on the local-process executor.
The small network's three implementations run interleaved, and each keeps its fastest repeat.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import reference_heapq, reference_simpy
from benchmarks.network import Network, Outcome, load_network
from caresim.engine.kernel import ENGINE_BUILD
from caresim.engine.model import Model
from caresim.experiment.executors import execute
from caresim.experiment.plan import BASELINE, Plan, make_plan, with_compared
from caresim.experiment.replication import WorldResult, run_replication
from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario
from caresim.scenario.sources import load_sourced

SKC = Path(__file__).resolve().parent.parent / "scenarios" / "skc_2015.yaml"
DAYS_PER_YEAR = 365.0
KENT_PEOPLE = 1_500_000
WORKERS = 2
MB = 1024  # ru_maxrss is in kilobytes on Linux


@dataclass
class Figures:
    """One table: a title, column names and rows of cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    measured: dict[str, float] = field(default_factory=dict)  # the figures the targets table judges
    prose_last: bool = False  # the last column is sentences, not figures

    def rich(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        for i, column in enumerate(self.columns):
            prose = i == 0 or (self.prose_last and i == len(self.columns) - 1)
            table.add_column(column, justify="left" if prose else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        aligns = ["---"] + ["---:"] * (len(self.columns) - 2) + ["---" if self.prose_last else "---:"]
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |", "|" + "|".join(aligns) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def machine() -> dict[str, str]:
    """CPU model, cores and Python version, as `lscpu` and the interpreter report them."""
    model = platform.processor() or "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": model, "cores": str(multiprocessing.cpu_count()), "python": platform.python_version(),
            "date": dt.date.today().isoformat(), "yardstick": f"{_yardstick():.0f} ns"}


def _yardstick() -> float:
    """CPU nanoseconds per iteration of a plain Python loop, best of three: how fast this interpreter
    runs here, to set figures from different machines side by side."""
    def loop() -> None:
        total = 0
        for i in range(2_000_000):
            total += i

    return min(_cpu(loop)[0] for _ in range(3)) / 2_000_000 * 1e9


def _cpu(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    value = run()
    return time.process_time() - start, value


# ----------------------------------------------------------------- small network
def _caresim_network(scenario: Scenario, replication: int) -> tuple[Outcome, int]:
    """caresim's engine on small_network.yaml, with patient events counted as the references count them."""
    record = Model(scenario, BASELINE, (), replication).run()
    services = [record.services[name] for name in ("ae_cubicles", "acute_beds", "step_down_beds")]
    events = int(record.counts["crises"]) + sum(s.arrivals + s.completed_stays for s in services)
    outcome = Outcome(events, int(record.counts["crises"]), services[1].arrivals, services[2].arrivals)
    return outcome, record.events


def small_network(repeats: int) -> Figures:
    scenario, net = load_network()
    runs: dict[str, Callable[[Network, int], tuple[Outcome, int | None]]] = {
        "heapq (hand-written loop)": lambda n, r: (reference_heapq.run(n, r), None),
        "SimPy (idiomatic processes)": lambda n, r: (reference_simpy.run(n, r), None),
        "caresim engine": lambda n, r: _caresim_network(scenario, r),
    }
    best: dict[str, tuple[float, Outcome, int | None]] = {}
    for r in range(repeats):  # every repeat simulates seed 0 again: the same work, timed again
        names = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for name in names:
            seconds, (outcome, callbacks) = _cpu(lambda name=name: runs[name](net, 0))
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, outcome, callbacks)
    per_year = DAYS_PER_YEAR / net.days
    rows = []
    for name, (seconds, outcome, callbacks) in best.items():
        rows.append((name, f"{seconds * per_year:.3f}", f"{outcome.patient_events:,}",
                     f"{outcome.patient_events / seconds:,.0f}", "" if callbacks is None else f"{callbacks:,}",
                     f"{outcome.admissions:,}", f"{outcome.step_downs:,}"))
    caresim, simpy_, heapq_ = (best[name][0] for name in ("caresim engine", "SimPy (idiomatic processes)",
                                                          "heapq (hand-written loop)"))
    crises = best["caresim engine"][1].arrivals
    return Figures(f"Small network, A&E → ward → step-down with blocking, 365 days (best of {repeats})",
                   ("implementation", "CPU s per replication-year", "patient events", "patient events/s",
                    "scheduled callbacks", "admissions", "step-downs"), rows,
                   {"caresim/simpy": caresim / simpy_, "caresim/heapq": caresim / heapq_,
                    "heapq s per year": heapq_ * per_year, "small network crises": crises,
                    "µs per crisis": caresim / crises * 1e6, "heapq µs per crisis": heapq_ / crises * 1e6})


# ----------------------------------------------------------------- the SKC experiment
def _experiment_child(replications: int, answer: Any) -> None:
    """Run in a fresh process, so its peak memory and its workers' belong to this experiment alone."""
    plan = make_plan(load_scenario(SKC), replications, fund_comparison=False)
    start = time.perf_counter()
    results = execute(plan, "processes", workers=WORKERS, progress=False)
    seconds = time.perf_counter() - start
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    days = plan.scenario.run.warm_up_days + plan.scenario.run.days
    answer.send({"seconds": seconds, "worker_cpu": children.ru_utime + children.ru_stime,
                 "world_years": len(plan.worlds) * replications * days / DAYS_PER_YEAR,
                 "main_mb": own.ru_maxrss / MB, "worker_mb": children.ru_maxrss / MB,
                 "worlds": len(plan.worlds), "events": sum(w.events for r in results for w in r)})


def _experiment(replications: int) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_experiment_child, args=(replications, send))
    child.start()
    send.close()  # so that a child which dies ends recv() with EOFError instead of a hang
    try:
        return receive.recv()
    except EOFError:
        raise RuntimeError(f"the {replications}-replication SKC experiment failed (exit code "
                           f"{child.exitcode}); its error is printed above") from None
    finally:
        child.join()


def skc_experiment(counts: tuple[int, int], extrapolate: bool) -> Figures:
    rows, peaks = [], []
    for n in counts:
        f = _experiment(n)
        per_100 = f["seconds"] * 100 / n
        peak = f["main_mb"] + WORKERS * f["worker_mb"]
        peaks.append(peak)
        rows.append((f"SKC experiment, {n} replications", f"{int(f['worlds'])}", f"{f['seconds']:.1f}",
                     f"{f['worker_cpu']:.1f}", f"{per_100:.0f}" + (" (extrapolated)" if n < 100 else ""),
                     f"{f['main_mb']:.0f}", f"{f['worker_mb']:.0f}", f"{peak:.0f}"))
    title = (f"Full SKC experiment: baseline + six-scheme mix, paired, no attribution; local processes, "
             f"{WORKERS} workers (targets: 100 replications ≤ 60 s, peak < 1 GB)")
    if extrapolate:
        title += f"; quick mode: seconds for 100 extrapolated from {counts[-1]}"
    measured = {"seconds for 100": per_100, "worker CPU s for 100": f["worker_cpu"] * 100 / counts[-1],
                "world-years for 100": f["world_years"] * 100 / counts[-1],
                "peak MB": peak, "peak growth": peak / peaks[0]}
    return Figures(title, ("run", "worlds", "wall s", "worker CPU s", "wall s for 100", "peak MB main",
                           "peak MB per worker", "peak MB total"), rows, measured)


# ----------------------------------------------------------------- whole commands
def _command_seconds(*args: str) -> float:
    """Wall seconds of one ``caresim`` command in a fresh process, as a user runs it."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "caresim", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def _default_world_years() -> float:
    """The world-years of the default SKC run at its cap of draws (the SKC default always reaches it), with
    the scenario it is compared with, as ``caresim run`` plans it."""
    origin = load_sourced(SKC)
    plan = make_plan(origin.scenario, attribution=True)
    if origin.compare_file is not None:
        plan = with_compared(plan, load_sourced(origin.compare_file).scenario)
    cap = plan.draws.max if plan.draws is not None else plan.replications
    days = plan.scenario.run.days + plan.scenario.run.warm_up_days
    return sum(len(plan.worlds_in(r)) for r in range(cap)) * days / DAYS_PER_YEAR


def commands(quick: bool, measured: dict[str, float]) -> Figures:
    """``caresim run --quick`` and the default ``caresim run`` on SKC, wall clock with 2 workers; in quick
    mode the default run is estimated from its world-years and this run's CPU seconds per SKC world-year among
    the other worlds of a replication."""
    with tempfile.TemporaryDirectory() as out:
        first = _command_seconds("run", str(SKC), "--quick", "--quiet", "--out", out)
        world_years = _default_world_years()
        if quick:  # each world costs what it does among the others of its replication, which share its candidates
            per_world = measured["SKC world-year among others s"]
            default = world_years * per_world / WORKERS
            how = f"estimated: {world_years:.0f} world-years × {per_world:.2f} s ÷ {WORKERS} cores"
        else:
            default, how = _command_seconds("run", str(SKC), "--quiet", "--out", out), "measured"
    rows = [("caresim run scenarios/skc_2015.yaml --quick", f"{first:.1f}", "measured"),
            ("caresim run scenarios/skc_2015.yaml", f"{default:.0f}", how)]
    return Figures("Whole commands on SKC, wall seconds (2 workers)", ("command", "wall s", "how"), rows,
                   {"quick run s": first, "default run s": default, "default world-years": world_years})


# ----------------------------------------------------------------- scaling with population
def scaled(scenario: Scenario, factor: float, copies: int = 1, name: str | None = None) -> Scenario:
    """The scenario with every locality (split into ``copies``) and every capacity multiplied by ``factor``."""
    data = scenario.model_dump(by_alias=True)
    data["name"] = name or f"{scenario.name}_x{factor:g}"

    def times(value: Any) -> Any:
        return value if value == "unlimited" else int(round(value * factor))

    data["population"]["localities"] = {
        (place if copies == 1 else f"{place} {k + 1}"): int(round(people * factor / copies))
        for place, people in scenario.population.localities.items() for k in range(copies)}
    services = data["services"]
    for service, keys in {"gp": ("appointments_per_weekday", "appointments_per_weekend_day"),
                          "rapid_response": ("capacity",), "ae": ("cubicles",),
                          "acute_beds": ("capacity", "initial_occupancy"),
                          "intermediate_care_beds": ("capacity", "initial_occupancy"),
                          "reablement": ("capacity", "initial_occupancy"), "home_care": ("new_packages_per_week",),
                          "care_homes": ("residential_beds", "nursing_beds")}.items():
        for key in keys:
            services[service][key] = times(services[service][key])
    services["care_homes"]["community_admissions_per_year"] *= factor
    services["reablement"]["referrals_from_home_per_year"] *= factor
    for key in ("assessments_per_weekday", "assessments_per_weekend_day"):
        data["discharge"][key] = times(data["discharge"][key])
    for scheme in data["schemes"].values():
        for effect in scheme["effects"]:
            if effect["kind"] == "capacity":
                effect["add"] = times(effect["add"])
            if effect.get("programme"):
                effect["programme"]["places"] = times(effect["programme"]["places"])
    run = data["run"]
    run.update(max_queue=int(run["max_queue"] * factor), max_events=int(run["max_events"] * factor))
    return Scenario.model_validate(data)


def _shortened(scenario: Scenario, quick: bool) -> Scenario:
    if not quick:
        return scenario
    return scenario.model_copy(update={"run": scenario.run.model_copy(update={"days": 45, "warm_up_days": 7})})


def _scaling_row(label: str, plan: Plan, one: float | None,
                 repeats: int) -> tuple[tuple[str, ...], float, list[WorldResult]]:
    """Replication 0 of ``plan``, fastest of ``repeats``: the table row, CPU seconds per simulated year
    (warm-up included), the worlds' results."""
    scenario = plan.scenario
    seconds, results = min((_cpu(lambda: run_replication(plan, 0)) for _ in range(repeats)), key=lambda r: r[0])
    events = sum(w.events for w in results)
    per_year = seconds * DAYS_PER_YEAR / (scenario.run.warm_up_days + scenario.run.days)
    return (label, f"{scenario.population.total:,}", f"{len(scenario.population.localities)}", f"{len(plan.worlds)}",
            f"{events:,}", f"{per_year:.2f}", f"{per_year / (one or per_year):.2f}",
            f"{seconds / events * 1e6:.1f}"), per_year, results


def _floor_row(attendances: float, one: float, repeats: int) -> tuple[tuple[str, ...], float]:
    """The hand-written heapq loop on the small network with its arrivals and places scaled to ``attendances``
    A&E attendances a year (SKC's): the floor, in Python, for SKC's A&E and acute-ward flows alone. The table
    row and its CPU seconds per year."""
    _scenario, net = load_network()
    factor = attendances / (net.arrivals_per_day * DAYS_PER_YEAR)
    net = replace(net, arrivals_per_day=net.arrivals_per_day * factor, cubicles=round(net.cubicles * factor),
                  beds=round(net.beds * factor), step_down_beds=round(net.step_down_beds * factor))
    seconds, outcome = min((_cpu(lambda: reference_heapq.run(net, 0)) for _ in range(repeats)), key=lambda r: r[0])
    per_year = seconds * DAYS_PER_YEAR / net.days
    return (f"heapq loop, A&E → ward → step-down at SKC's {attendances:,.0f} A&E attendances a year", "", "", "",
            f"{outcome.patient_events:,}", f"{per_year:.2f}", f"{per_year / one:.2f}",
            f"{seconds / outcome.patient_events * 1e6:.1f}"), per_year


def scaling(quick: bool) -> Figures:
    skc = load_scenario(SKC)
    repeats = 1 if quick else 2
    rows: list[tuple[str, ...]] = []
    worlds: list[tuple[float, WorldResult]] = []  # CPU s per year and result of the baseline world at ×1, ×4, ×8
    for factor in (1, 4, 8):
        plan = Plan(_shortened(scaled(skc, factor), quick), {BASELINE: ()}, 1, ())
        row, per_year, (world,) = _scaling_row(f"SKC ×{factor}, baseline world", plan,
                                               worlds[0][0] if worlds else None, repeats)
        rows.append(row)
        worlds.append((per_year, world))
    (one, skc_world), (eight, eight_world) = worlds[0], worlds[-1]
    measured = {"SKC world-year s": one, "×8 time": eight / one, "×8 events": eight_world.events / skc_world.events,
                "SKC crises": skc_world.measures["crises"]}
    row, measured["heapq s per SKC year"] = _floor_row(skc_world.measures["ae_attendances"], one, 3 if quick else 5)
    rows.append(row)
    kent = scaled(skc, KENT_PEOPLE / skc.population.total, copies=2, name="kent_sized")
    for label, scenario in (("SKC ×1, baseline + mix", skc), ("Kent-sized, baseline + mix", kent)):
        plan = make_plan(_shortened(scenario, quick), 1, fund_comparison=False)
        row, per_year, _results = _scaling_row(label, plan, one, repeats)
        rows.append(row)
        if scenario is skc:  # a world among the others of its replication, as in a whole run
            measured["SKC world-year among others s"] = per_year / len(plan.worlds)
    measured.update({"Kent replication-year s": per_year, "Kent worlds": len(plan.worlds),
                     "Kent SKCs": kent.population.total / skc.population.total})
    title = f"Scaling with population (capacities scaled alike), one replication each, fastest of {repeats}"
    if quick:
        title += "; quick mode: 52-day runs scaled to a year"
    return Figures(title, ("run", "people", "localities", "worlds", "events", "CPU s per replication-year",
                           "÷ SKC ×1 baseline", "µs per event"), rows, measured)


# ----------------------------------------------------------------- the targets, judged
def targets(measured: dict[str, float]) -> Figures:
    """Each target of the speed issue (#14), judged on figures of this one run: met or not, and for any
    not met what stands in the way."""
    m = measured
    engine_gap = (f"the model's own work per crisis ({m['µs per crisis']:.0f} µs against heapq's "
                  f"{m['heapq µs per crisis']:.0f} µs: routing, scheme effects, counters, checks), on the "
                  f"{'compiled' if ENGINE_BUILD.startswith('compiled') else 'pure-Python'} engine")
    skc_ratio = m["SKC world-year s"] / m["heapq s per year"]
    draws_1000 = m["seconds for 100"] * 10
    cores = m["worker CPU s for 100"] * 10 / 300
    floor = m["heapq s per SKC year"]

    def allows(budget: float) -> str:
        """What a throughput target leaves for each SKC-sized world-year, against the floor measured in Python."""
        return (f"The target allows {budget:.2f} CPU s per SKC-sized world-year; a hand-written heapq loop takes "
                f"{floor:.2f} s to take SKC's A&E attendances through A&E, a ward and step-down beds alone "
                "(scaling table)")

    rows = [
        ("the default caresim run on SKC ≤ 60 s wall on 2 cores", f"{m['default run s']:.0f} s",
         m["default run s"] <= 60, f"{m['default world-years']:.0f} world-years (the headline worlds on 60 draws, the "
         f"per-scheme worlds on 10) at about {m['SKC world-year among others s']:.2f} CPU s each: an engine "
         f"{m['default run s'] / 60:.1f}× faster, or that many more cores. "
         + allows(60 * WORKERS / m["default world-years"])),
        ("caresim run --quick on SKC ≤ 15 s wall", f"{m['quick run s']:.1f} s", m["quick run s"] <= 15,
         "4 draws of 2 worlds, plus starting Python and loading the scenario"),
        ("caresim ≥ 3× as fast as SimPy (small network)", f"{1 / m['caresim/simpy']:.2f}×",
         m["caresim/simpy"] <= 1 / 3, engine_gap),
        ("caresim within 2× of heapq (small network)", f"{m['caresim/heapq']:.2f}×", m["caresim/heapq"] <= 2,
         engine_gap),
        ("SKC world-year ≤ 10× heapq's small-network replication-year",
         f"{skc_ratio:.1f}× ({m['SKC world-year s']:.2f} s against {m['heapq s per year']:.3f} s)", skc_ratio <= 10,
         f"about {m['SKC crises']:,.0f} crises a year through the whole system, against the small network's "
         f"{m['small network crises']:,.0f} through A&E and its wards"),
        ("1,000 paired draws of baseline + mix ≤ 5 min on 2 cores", f"{draws_1000:.0f} s (from the experiment)",
         draws_1000 <= 300, f"{m['worker CPU s for 100'] * 10:.0f} CPU seconds of work: about {cores:.0f} cores "
         f"for 5 minutes, or an engine {m['worker CPU s for 100'] * 10 / (300 * WORKERS):.1f}× faster. "
         + allows(300 * WORKERS / (m["world-years for 100"] * 10))),
        ("Kent-sized baseline + mix replication-year ≤ 8 CPU s", f"{m['Kent replication-year s']:.1f} s",
         m["Kent replication-year s"] <= 8, f"the work per crisis, times {m['Kent SKCs']:.1f} SKCs of people. "
         + allows(8 / (m["Kent worlds"] * m["Kent SKCs"]))),
        ("peak memory < 1 GB, not growing with replications",
         f"{m['peak MB']:.0f} MB (×{m['peak growth']:.2f} from fewer)", m["peak MB"] < 1024 and m["peak growth"] < 1.2,
         "replications aggregate as they finish; memory grows only with population"),
        ("cost linear in population (×8 people → ×8 time, ± 25 %)",
         f"time ×{m['×8 time']:.2f}, events ×{m['×8 events']:.2f}", 6 <= m["×8 time"] <= 10,
         f"the work is linear (events ×{m['×8 events']:.2f}) but each event costs "
         f"{m['×8 time'] / m['×8 events'] - 1:.0%} more: the working set (the candidates' draws, patients in "
         "flight) outgrows the CPU caches, and the event heap is deeper"),
    ]
    return Figures("Targets (issue #14)", ("target", "measured", "met", "what stands in the way (when not met)"),
                   [(name, figure, "met" if ok else "not met", "" if ok else why) for name, figure, ok, why in rows],
                   prose_last=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 replications extrapolated to 100; short scaling runs")
    parser.add_argument("--markdown", action="store_true", help="also print the tables as Markdown")
    args = parser.parse_args()
    console = Console(width=None if Console().is_terminal else 160)
    about = machine()
    console.print(f"caresim benchmarks{' (quick)' if args.quick else ''} on {about['cpu']}, {about['cores']} cores, "
                  f"Python {about['python']}, {about['date']}; Python loop: {about['yardstick']} an iteration; "
                  f"engine: {ENGINE_BUILD}")
    tables = []
    for measure in (lambda: small_network(2 if args.quick else 5),
                    lambda: skc_experiment((2, 4) if args.quick else (20, 100), args.quick),
                    lambda: scaling(args.quick)):
        tables.append(measure())
        console.print(tables[-1].rich())
    measured = {k: v for table in tables for k, v in table.measured.items()}
    tables.append(commands(args.quick, measured))
    console.print(tables[-1].rich())
    tables.append(targets({**measured, **tables[-1].measured}))
    console.print(tables[-1].rich())
    if args.markdown:
        console.print("\n\n".join(t.markdown() for t in tables), markup=False, highlight=False, soft_wrap=True)
