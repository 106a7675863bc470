"""A small, self-consistent synthetic run folder with every file of docs/design.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from caresim.run_folder import SCHEMA_VERSION
from caresim.scenario.fields import DELAY_REASONS

SCENARIO = "skc_test"
MIX = "skc_bcf_mix"
OTHER_MIX = "rapid_response_only"
MIX_TITLE = "The four BCF schemes"
REPLICATIONS = 12
SCHEMES = ("rapid_response", "reablement_expansion", "discharge_to_assess", "care_home_support")
SCHEME_ADMISSIONS_AVOIDED = (110.0, 45.0, 20.0, 35.0)
REMAINDER_ADMISSIONS = -12.0
MONTHS = [f"{year}-{month:02d}" for year, month in [(2025, m) for m in range(4, 13)] + [(2026, m) for m in (1, 2, 3)]]
BED_CAPACITY = {"acute_beds": 560, "intermediate_care_beds": 90, "reablement": 140}
BCF_TARGETS = {
    "bcf_care_home_admissions_per_100k_65plus": 640.0,
    "bcf_still_home_91d_percent": 84.0,
    "bcf_delayed_days_per_100k_per_month": 800.0,
}
CLAIMED_BENEFIT = 3_000_000.0
FLOWS = [
    ("crisis", "GP", 21000),
    ("crisis", "111 / out of hours", 14000),
    ("crisis", "ambulance", 16000),
    ("crisis", "minor injury unit", 5000),
    ("crisis", "rapid response", 2600),
    ("ambulance", "A&E", 12000),
    ("GP", "acute beds", 1200),
    ("A&E", "acute beds", 7200),
    ("acute beds", "home", 5200),
    ("acute beds", "reablement", 1300),
    ("acute beds", "home care", 400),
    ("acute beds", "intermediate care beds", 900),
    ("acute beds", "care homes", 500),
    ("acute beds", "death", 800),
    ("acute beds", "hospice", 100),
    ("rapid response", "intermediate care beds", 300),
    ("intermediate care beds", "acute beds", 100),
    ("reablement", "home care", 300),
]


def _estimate(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(values.mean())
    half_width = 2.2 * float(values.std(ddof=1)) / np.sqrt(len(values))
    return mean, mean - half_width, mean + half_width


UNITS = {
    "emergency_admissions": "per year",
    "acute_bed_days": "bed days per year",
    "delayed_days": "delayed days per year",
    "care_home_admissions": "per year",
    "cost_nhs": "pounds per year",
    "cost_council": "pounds per year",
    "cost_total": "pounds per year",
    "scheme_cost": "pounds per year",
    "net_cost": "pounds per year",
    "claimed_benefit": "pounds per year",
    "bcf_care_home_admissions_per_100k_65plus": "per 100,000 per year",
    "bcf_still_home_91d_percent": "percent",
    "bcf_delayed_days_per_100k_per_month": "per 100,000 per month",
    "bcf_avoidable_admissions_per_100k": "per 100,000 per year",
}
WEEKDAY_DISCHARGES = {"monday": 1480.0, "tuesday": 1440.0, "wednesday": 1420.0, "thursday": 1400.0,
                      "friday": 1560.0, "saturday": 820.0, "sunday": 640.0}
OCCUPANCY = {"acute": 91.0, "intermediate_care": 88.0, "reablement": 84.0, "rapid_response": 71.0, "care_home": 93.0}
WAITS = {"intermediate_care": 2.1, "reablement": 4.6, "home_care": 6.8, "care_home": 9.5}
REASON_DAYS = {"awaiting_assessment": 700.0, "community_bed": 1200.0, "care_at_home": 900.0,
               "care_home_placement": 500.0, "patient_choice": 600.0}
AGENCY_SHARES = {"nhs": 55.0, "social_care": 35.0, "both": 10.0}
NEW_BEHAVIOUR_MEASURES = (  # added for the behaviour chart; an older run folder has none of them
    *(f"discharges_{day}" for day in WEEKDAY_DISCHARGES), "weekend_discharge_percent",
    *(f"{service}_wait_days" for service in WAITS), *(f"delayed_days_{reason}" for reason in REASON_DAYS),
)
UNITS |= {f"discharges_{day}": "per year" for day in WEEKDAY_DISCHARGES} | {"weekend_discharge_percent": "percent"}
UNITS |= {f"{group}_occupancy_percent": "percent" for group in OCCUPANCY} | {f"{s}_wait_days": "days" for s in WAITS}
UNITS |= {f"delayed_days_{name}": "delayed days per year" for name in REASON_DAYS}
UNITS |= {f"delayed_days_{name}_percent": "percent" for name in AGENCY_SHARES}
BEHAVIOUR_TARGETS = (  # measure, target, tolerance, kind, source; a few behaviour measures have a target
    ("weekend_discharge_percent", 20.0, 5.0, "absolute", "public: NHS England discharge sitrep, weekend share"),
    ("acute_occupancy_percent", 88.5, 3.5, "absolute", "assumption: 85-92 %"),
    ("reablement_wait_days", 3.0, 1.0, "absolute", "assumption: local reablement waiting list"),
    ("delayed_days_care_at_home", 1000.0, 0.2, "relative", "public: NHS England DToC 2015/16"),
    ("delayed_days_nhs_percent", 60.0, 0.15, "relative", "public: ADASS September 2015, NHS 62 %"),
)


def _behaviour_measures(rng: np.random.Generator, relief: float) -> dict[str, float]:
    """Discharges by weekday, occupancy, waits and delay shares; `relief` (0 to 1) is the mix's easing."""
    weekdays = {f"discharges_{day}": value * rng.normal(1, 0.02) for day, value in WEEKDAY_DISCHARGES.items()}
    weekend = weekdays["discharges_saturday"] + weekdays["discharges_sunday"]
    return {
        **weekdays,
        "weekend_discharge_percent": 100 * weekend / sum(weekdays.values()),
        **{f"{g}_occupancy_percent": v - 3 * relief + rng.normal(0, 0.6) for g, v in OCCUPANCY.items()},
        **{f"{s}_wait_days": v * (1 - 0.3 * relief) * rng.normal(1, 0.05) for s, v in WAITS.items()},
        **{f"delayed_days_{r}": v * (1 - 0.3 * relief) * rng.normal(1, 0.03) for r, v in REASON_DAYS.items()},
        **{f"delayed_days_{a}_percent": v + rng.normal(0, 0.5) for a, v in AGENCY_SHARES.items()},
    }


def _world_measures(
    rng: np.random.Generator, admissions: float, care_home: float, delayed: float, scheme_cost: float, still_home: float
) -> dict[str, float]:
    nhs = 2300.0 * admissions + 420.0 * delayed
    council = 52_000.0 * care_home + (250_000 if scheme_cost else 0.0) + rng.normal(0, 40_000)
    return {
        "emergency_admissions": admissions,
        "acute_bed_days": admissions * 5.8 + rng.normal(0, 300),
        "delayed_days": delayed,
        "care_home_admissions": care_home,
        "cost_nhs": nhs,
        "cost_council": council,
        "cost_total": nhs + council,
        "scheme_cost": scheme_cost,
        "net_cost": nhs + council + scheme_cost,
        "claimed_benefit": CLAIMED_BENEFIT if scheme_cost else 0.0,
        "bcf_care_home_admissions_per_100k_65plus": care_home / 58_000 * 100_000,
        "bcf_still_home_91d_percent": still_home,
        "bcf_delayed_days_per_100k_per_month": delayed / 12 / 210_000 * 100_000,
        "bcf_avoidable_admissions_per_100k": admissions * 0.21 / 210_000 * 100_000,
    }


def _replication_values(rng: np.random.Generator, with_behaviour_measures: bool) -> pd.DataFrame:
    """Per replication values for the baseline and the mix, paired by replication; behaviour measures from a
    stream of their own, and without the new ones for an older run folder."""
    avoided = sum(SCHEME_ADMISSIONS_AVOIDED) + REMAINDER_ADMISSIONS
    behaviour_rng = np.random.default_rng(11)
    left_out = () if with_behaviour_measures else NEW_BEHAVIOUR_MEASURES
    rows = []
    for replication in range(REPLICATIONS):
        admissions, care_home, delayed = rng.normal(9100, 150), rng.normal(380, 15), rng.normal(21000, 900)
        worlds = {
            "baseline": _world_measures(rng, admissions, care_home, delayed, 0.0, rng.normal(82.0, 0.8)),
            MIX: _world_measures(
                rng,
                admissions - avoided + rng.normal(0, 8),
                care_home - 25 + rng.normal(0, 4),
                delayed * 0.86 + rng.normal(0, 100),
                3_200_000 + rng.normal(0, 30_000),
                rng.normal(85.5, 0.8),
            ),
        }
        for world, measures in worlds.items():
            measures |= _behaviour_measures(behaviour_rng, 0.0 if world == "baseline" else 1.0)
            for measure, value in ((m, v) for m, v in measures.items() if m not in left_out):
                rows.append((SCENARIO, world, replication, 20250401, measure, UNITS[measure], float(value)))
    return pd.DataFrame(rows, columns=["scenario", "world", "replication", "seed", "measure", "unit", "value"])


def _paired_differences(replications: pd.DataFrame) -> pd.DataFrame:
    """Mix minus baseline per replication, with the reductions and money measures of the real writer."""
    wide = {
        w: t.pivot(index="replication", columns="measure", values="value") for w, t in replications.groupby("world")
    }
    difference = wide[MIX] - wide["baseline"]
    for measure, avoided in (
        ("emergency_admissions", "emergency_admissions_avoided"),
        ("acute_bed_days", "acute_bed_days_saved"),
        ("delayed_days", "delayed_days_saved"),
        ("cost_total", "activity_savings"),
    ):
        difference[avoided] = -difference[measure]
    difference["scheme_cost"] = wide[MIX]["scheme_cost"]
    difference["net_cost"] = difference["cost_total"] + wide[MIX]["scheme_cost"]
    difference["probability_saves_money"] = (difference["net_cost"] < 0).astype(float)
    difference["claimed_benefit"] = wide[MIX]["claimed_benefit"]
    return difference


def _summary(replications: pd.DataFrame) -> pd.DataFrame:
    units = {**UNITS, "probability_saves_money": "share of replications", "activity_savings": "pounds per year"}
    tables = {
        w: t.pivot(index="replication", columns="measure", values="value") for w, t in replications.groupby("world")
    }
    tables["difference"] = _paired_differences(replications)
    rows = []
    for world in ("baseline", MIX, "difference"):
        for measure, values in tables[world].items():
            mean, low, high = _estimate(values.to_numpy())
            outcome_low, outcome_high = np.percentile(values.to_numpy(), [2.5, 97.5])
            unit = units.get(measure, units.get(measure.rsplit("_", 1)[0], "per year"))
            rows.append((SCENARIO, world, measure, unit, mean, low, high, outcome_low, outcome_high, 1.5,
                         REPLICATIONS))
    for world, mean in ((OTHER_MIX, 9010.0), (f"difference:{OTHER_MIX}", -110.0)):
        rows.append((SCENARIO, world, "emergency_admissions", "per year", mean, mean - 40, mean + 40, mean - 120,
                     mean + 120, 1.5, REPLICATIONS))
    return pd.DataFrame(rows, columns=["scenario", "world", "measure", "unit", "mean", "ci_low", "ci_high",
                                       "outcome_low", "outcome_high", "outcome_standard_error", "n"])


def _attribution() -> pd.DataFrame:
    """One-at-a-time and leave-one-out rows per scheme, the interaction remainder and the total."""
    avoided = sum(SCHEME_ADMISSIONS_AVOIDED) + REMAINDER_ADMISSIONS
    parts = [
        (scheme, method, -value * scale)
        for scheme, value in zip(SCHEMES, SCHEME_ADMISSIONS_AVOIDED, strict=True)
        for method, scale in (("one_at_a_time", 1.0), ("leave_one_out", 0.92))
    ]
    parts += [("interaction", "remainder", -REMAINDER_ADMISSIONS), ("all schemes", "total", -avoided)]
    rows = [
        (scheme, method, measure, mean * scale, mean * scale - 30, mean * scale + 30, mean * scale - 90,
         mean * scale + 90, REPLICATIONS)
        for scheme, method, mean in parts
        for measure, scale in (("emergency_admissions", 1.0), ("net_cost", -2000.0))
    ]
    return pd.DataFrame(rows, columns=["scheme", "method", "measure", "mean", "ci_low", "ci_high", "outcome_low",
                                       "outcome_high", "n"])


def _daily(rng: np.random.Generator) -> pd.DataFrame:
    dates = pd.date_range("2025-04-01", periods=365, freq="D")
    season = np.cos((np.arange(365) - 280) / 365 * 2 * np.pi)
    frames = []
    for world, relief in (("baseline", 0.0), (MIX, 1.0)):
        for replication in range(REPLICATIONS):
            for service, capacity in BED_CAPACITY.items():
                level = 0.9 * capacity + 0.05 * capacity * season - relief * 0.04 * capacity
                noise = np.cumsum(rng.normal(0, 0.004 * capacity, 365)) * 0.3
                occupied = np.minimum(np.round(level + noise), capacity)
                frames.append(
                    pd.DataFrame(
                        {
                            "world": world,
                            "replication": replication,
                            "day": np.arange(365),
                            "date": dates,
                            "service": service,
                            "occupied": occupied,
                            "capacity": capacity,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _monthly(rng: np.random.Generator) -> pd.DataFrame:
    shares = dict(zip(DELAY_REASONS, (0.3, 0.25, 0.15, 0.12, 0.13, 0.05), strict=True))
    rows = []
    for world, factor in (("baseline", 1.0), (MIX, 0.86)):
        for replication in range(REPLICATIONS):
            for index, month in enumerate(MONTHS):
                winter = 1.0 + 0.2 * np.cos((index - 9) / 12 * 2 * np.pi)
                for reason, share in shares.items():
                    value = 1750 * share * winter * factor * rng.normal(1, 0.05)
                    rows.append((world, replication, month, f"delayed_days_{reason}", value))
    return pd.DataFrame(rows, columns=["world", "replication", "month", "measure", "value"])


CALIBRATION_COLUMNS = ["measure", "unit", "target", "tolerance", "tolerance_kind", "low", "high", "baseline_mean",
                       "ci_low", "ci_high", "within", "source"]


def _calibration(summary: pd.DataFrame) -> pd.DataFrame:
    """Three hand-written rows, then the behaviour targets of the measures the run reports, checked against
    the summary as the real writer does."""
    baseline = summary[summary["world"] == "baseline"].set_index("measure")
    rows = []
    for measure, target, tolerance, kind, source in BEHAVIOUR_TARGETS:
        if measure in baseline.index:
            spread = target * tolerance if kind == "relative" else tolerance
            low, high = target - spread, target + spread
            row = baseline.loc[measure]
            rows.append((measure, row["unit"], target, tolerance, kind, low, high, row["mean"], row["ci_low"],
                         row["ci_high"], bool(low <= row["mean"] <= high), source))
    return pd.concat([_fixed_calibration(), pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)], ignore_index=True)


def _fixed_calibration() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("emergency_admissions", "per year", 9200, 0.05, "relative", 8740, 9660, 9110, 9020, 9200, True, "SUS"),
            (
                "acute_bed_days",
                "bed days per year",
                55000,
                0.05,
                "relative",
                52250,
                57750,
                53700,
                53100,
                54300,
                True,
                "KH03",
            ),
            (
                "delayed_days",
                "delayed days per year",
                18000,
                1500,
                "absolute",
                16500,
                19500,
                21000,
                20500,
                21500,
                False,
                "BCF plan 2025/26",
            ),
        ],
        columns=CALIBRATION_COLUMNS,
    )


def _sampled() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("acute_length_of_stay_days", 5.9, 5.93, 9100, 0.05, 0.6, False),
            ("reablement_duration_days", 28.0, 27.6, 1300, 0.3, -1.3, False),
            ("care_home_stay_years", 2.4, 2.9, 600, 0.1, 5.0, True),
        ],
        columns=["distribution", "configured_mean", "sampled_mean", "n", "standard_error", "z", "flag"],
    )


def _manifest(status: str) -> dict:
    """The manifest keys the real writer records (see caresim.workflows.run)."""
    return {
        "status": status,
        "schema_version": SCHEMA_VERSION,
        "scenario": SCENARIO,
        "run_id": "20250401-120000-test",
        "started": "2025-04-01T12:00:00+00:00",
        "finished": "2025-04-01T12:03:20+00:00",
        "scenario_file": "skc_test.yaml",
        "title": "South Kent Coast test scenario",
        "caresim_version": "0.1.0",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "seed": 20250401,
        "replications": REPLICATIONS,
        "worlds": ["baseline", MIX, OTHER_MIX, *(f"only:{scheme}" for scheme in SCHEMES)],
        "executor": "serial",
        "seconds": 200.0,
        "claimed_benefit_per_year": CLAIMED_BENEFIT,
        "claimed_benefit_source": "BCF plan 2025/26, section 4 <table 2>",
        "bcf_targets": BCF_TARGETS,
        "mixes": [MIX, OTHER_MIX],
        "main_mix": MIX,
        "mix_titles": {MIX: MIX_TITLE, OTHER_MIX: "Rapid response alone", "discharge_focus": "Discharge focus"},
        "scheme_titles": {scheme: scheme.replace("_", " ").capitalize() for scheme in SCHEMES},
        "parameters_with_sources": [
            {"path": "demand.crises_per_year", "value": 53600, "source": "seed: SUS 2023/24", "flag": "seed"},
            {"path": "services.acute_beds.capacity", "value": 560, "source": "public: KH03", "flag": "public"},
            {
                "path": "schemes.rapid_response.admissions_avoided_share",
                "value": 0.2,
                "source": "assumption: local estimate, no published evaluation",
                "flag": "assumption",
            },
            {"path": "calibration.delayed_days", "value": 18000, "source": "target: BCF plan", "flag": "target"},
            {"path": "services.reablement.duration", "value": [21, 28, 42], "source": "", "flag": "unsourced"},
            {
                "path": "costs.care_home_week",
                "value": 1000,
                "source": "assumption: council rate <estimate> & uplift",
                "flag": "assumption",
            },
        ],
    }


MONEY = {  # comparison → (cost, cash released, capacity freed), changes in spending a year (negative: saved)
    "the plan against what existed": (2_000_000.0, -700_000.0, -900_000.0),
    "the pooled fund against no fund": (5_000_000.0, -1_500_000.0, -2_100_000.0),
}


def _money(rng: np.random.Generator) -> pd.DataFrame:
    """money.csv: per comparison one item per kind and the totals across payers, from replications drawn here."""
    rows = []
    for comparison, (cost, cash, capacity) in MONEY.items():
        draws = {kind: mean + rng.normal(0.0, abs(mean) * 0.2, REPLICATIONS)
                 for kind, mean in (("cash_releasing", cash), ("not_cash_releasing", capacity))}
        draws["cost"] = np.full(REPLICATIONS, cost)
        draws |= {"total_cash": draws["cash_releasing"], "total_capacity": draws["not_cash_releasing"],
                  "net_cash": draws["cost"] + draws["cash_releasing"],
                  "net_all": draws["cost"] + draws["cash_releasing"] + draws["not_cash_releasing"]}
        for kind, values in draws.items():
            mean, low, high = _estimate(values)
            rows.append((comparison, "baseline", "2025/26", "all" if kind.startswith(("total", "net")) else "ccg_acute",
                         kind.replace("_", " "), kind, mean, low, high, *np.percentile(values, [2.5, 97.5]),
                         REPLICATIONS, float((values < 0).mean())))
    return pd.DataFrame(rows, columns=["comparison", "counterfactual", "year", "payer", "item", "kind", "mean",
                                       "ci_low", "ci_high", "p2_5", "p97_5", "n", "share_below_zero"])


def write_fake_run(
    run_dir: Path, status: str = "complete", with_optional_files: bool = True, with_behaviour_measures: bool = True
) -> Path:
    """Write a synthetic run folder into `run_dir` and return it; `with_behaviour_measures=False` leaves out the
    measures added for the behaviour chart, as in a folder written before them."""
    rng = np.random.default_rng(7)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps(_manifest(status), indent=2))
    (run_dir / "scenario.yaml").write_text(f"name: {SCENARIO}\nreplications: {REPLICATIONS}\n")
    replications = _replication_values(rng, with_behaviour_measures)
    replications.to_parquet(run_dir / "replications.parquet")
    summary = _summary(replications)
    summary.to_csv(run_dir / "summary.csv", index=False)
    _daily(rng).to_parquet(run_dir / "daily.parquet")
    _monthly(rng).to_parquet(run_dir / "monthly.parquet")
    _attribution().to_csv(run_dir / "attribution.csv", index=False)
    _money(rng).to_csv(run_dir / "money.csv", index=False)
    pd.DataFrame([(metric, 0.05, 250_000.0, target, 0.4 if target else np.nan, 100_000.0 if target else np.nan)
                  for metric, target in (("bcf_avoidable_admissions_per_100k", 1700.0), ("patient_experience", None))],
                 columns=["metric", "share_of_fund", "at_risk", "target", "p_miss", "expected_loss"]
                 ).to_csv(run_dir / "performance.csv", index=False)
    _calibration(summary).to_csv(run_dir / "calibration.csv", index=False)
    _sampled().to_csv(run_dir / "sampled.csv", index=False)
    pd.DataFrame(FLOWS, columns=["source", "target", "per_year"]).to_csv(run_dir / "flows.csv", index=False)
    if with_optional_files:
        pd.DataFrame(
            [
                (mix, measure, mean, mean - spread, mean + spread, REPLICATIONS)
                for mix, avoided, cost in (
                    (MIX, 198.0, 460_000.0),
                    ("rapid_response_only", 110.0, 200_000.0),
                    ("discharge_focus", 60.0, 1_300_000.0),
                )
                for measure, mean, spread in (
                    ("emergency_admissions_avoided", avoided, 45.0),
                    ("net_cost", cost, 350_000.0),
                )
            ],
            columns=["mix", "measure", "mean", "ci_low", "ci_high", "n"],
        ).to_csv(run_dir / "comparison.csv", index=False)
        pd.DataFrame(
            [
                ("schemes.rapid_response.admissions_avoided_share", 0.1, 0.3, -120.0, -280.0, "emergency_admissions"),
                ("schemes.reablement.capacity", 40, 80, -180.0, -215.0, "emergency_admissions"),
                ("schemes.discharge_to_assess.delay_cut", 0.2, 0.5, -190.0, -205.0, "emergency_admissions"),
                ("schemes.care_home_support.effect", 0.05, 0.25, -170.0, -230.0, "emergency_admissions"),
            ],
            columns=["parameter", "low_value", "high_value", "headline_low", "headline_high", "headline_measure"],
        ).to_csv(run_dir / "sensitivity.csv", index=False)
        pd.DataFrame(
            [
                (scheme, effect, measure, correlation, "partial rank correlation", REPLICATIONS)
                for scheme, effect, admissions, cost in (
                    ("rapid_response", "admissions_avoided_share", 0.82, -0.55),
                    ("care_home_support", "effect", 0.31, -0.12),
                    ("reablement", "fewer_care_home_admissions", -0.04, 0.02),
                )
                for measure, correlation in (("emergency_admissions_avoided", admissions), ("net_cost", cost))
            ],
            columns=["scheme", "effect", "measure", "correlation", "method", "n"],
        ).to_csv(run_dir / "tornado.csv", index=False)
    return run_dir
