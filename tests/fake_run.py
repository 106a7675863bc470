"""A small, self-consistent synthetic run folder with every file of docs/design.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SCENARIO = "skc_test"
MIX = "skc_bcf_mix"
REPLICATIONS = 12
SCHEMES = ("rapid_response", "reablement_expansion", "discharge_to_assess", "care_home_support")
SCHEME_ADMISSIONS_AVOIDED = (110.0, 45.0, 20.0, 35.0)
REMAINDER_ADMISSIONS = -12.0
DELAY_REASONS = (
    "awaiting_assessment",
    "home_care_package",
    "reablement",
    "community_bed",
    "care_home_placement",
    "patient_choice",
)
MONTHS = [f"{year}-{month:02d}" for year, month in [(2025, m) for m in range(4, 13)] + [(2026, m) for m in (1, 2, 3)]]
BED_CAPACITY = {"acute_beds": 560, "intermediate_care_beds": 90}
BCF_TARGETS = {
    "bcf_care_home_admissions_per_100k_65plus": 640.0,
    "bcf_still_home_91d_percent": 84.0,
    "bcf_delayed_days_per_100k_per_month": 800.0,
}
CLAIMED_BENEFIT = 3_000_000.0
FLOWS = [
    ("crisis", "gp", 21000),
    ("crisis", "nhs_111", 14000),
    ("crisis", "ambulance", 16000),
    ("crisis", "rapid_response", 2600),
    ("gp", "home", 15500),
    ("gp", "a_and_e", 3500),
    ("gp", "rapid_response", 2000),
    ("nhs_111", "minor_injury_unit", 5000),
    ("nhs_111", "a_and_e", 4000),
    ("nhs_111", "home", 5000),
    ("ambulance", "a_and_e", 12000),
    ("ambulance", "home", 4000),
    ("minor_injury_unit", "home", 4700),
    ("minor_injury_unit", "a_and_e", 300),
    ("a_and_e", "acute_beds", 8400),
    ("a_and_e", "home", 11400),
    ("rapid_response", "home", 3900),
    ("rapid_response", "acute_beds", 700),
    ("acute_beds", "home", 5200),
    ("acute_beds", "reablement", 1300),
    ("acute_beds", "intermediate_care_beds", 900),
    ("acute_beds", "care_homes", 500),
    ("acute_beds", "death", 800),
    ("acute_beds", "hospice", 100),
    ("intermediate_care_beds", "home", 600),
    ("intermediate_care_beds", "care_homes", 200),
    ("intermediate_care_beds", "acute_beds", 100),
    ("reablement", "home", 1000),
    ("reablement", "home_care", 300),
    ("home_care", "home", 300),
]


def _estimate(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(values.mean())
    half_width = 2.2 * float(values.std(ddof=1)) / np.sqrt(len(values))
    return mean, mean - half_width, mean + half_width


def _replication_values(rng: np.random.Generator) -> pd.DataFrame:
    """Per replication values for baseline and mix, paired by replication."""
    avoided = sum(SCHEME_ADMISSIONS_AVOIDED) + REMAINDER_ADMISSIONS
    rows = []
    for replication in range(REPLICATIONS):
        admissions = rng.normal(9100, 150)
        bed_days = admissions * 5.9 + rng.normal(0, 400)
        care_home = rng.normal(380, 15)
        delayed = rng.normal(21000, 900)
        nhs = 2300.0 * admissions + 420.0 * delayed
        council = 52_000.0 * care_home
        baseline = {
            "emergency_admissions": ("admissions per year", admissions),
            "acute_bed_days": ("bed days per year", bed_days),
            "delayed_days": ("delayed days per year", delayed),
            "care_home_admissions": ("admissions per year", care_home),
            "cost_nhs": ("pounds per year", nhs),
            "cost_council": ("pounds per year", council),
            "scheme_cost": ("pounds per year", 0.0),
        }
        mix_admissions = admissions - avoided + rng.normal(0, 8)
        mix_care_home = care_home - 25 + rng.normal(0, 4)
        mix_delayed = delayed * 0.86 + rng.normal(0, 100)
        mix = {
            "emergency_admissions": ("admissions per year", mix_admissions),
            "acute_bed_days": ("bed days per year", mix_admissions * 5.7 + rng.normal(0, 400)),
            "delayed_days": ("delayed days per year", mix_delayed),
            "care_home_admissions": ("admissions per year", mix_care_home),
            "cost_nhs": ("pounds per year", 2300.0 * mix_admissions + 420.0 * mix_delayed),
            "cost_council": ("pounds per year", 52_000.0 * mix_care_home + 250_000 + rng.normal(0, 40_000)),
            "scheme_cost": ("pounds per year", 3_200_000 + rng.normal(0, 30_000)),
        }
        for world, values in (("baseline", baseline), (MIX, mix)):
            cost = sum(values[name][1] for name in ("cost_nhs", "cost_council", "scheme_cost"))
            population_65 = 58_000.0
            derived = {
                "net_cost": ("pounds per year", cost),
                "bcf_care_home_admissions_per_100k_65plus": (
                    "admissions per 100,000 aged 65+ per year",
                    values["care_home_admissions"][1] / population_65 * 100_000,
                ),
                "bcf_still_home_91d_percent": (
                    "percent",
                    rng.normal(82.0 if world == "baseline" else 85.5, 0.8),
                ),
                "bcf_delayed_days_per_100k_per_month": (
                    "delayed days per 100,000 per month",
                    values["delayed_days"][1] / 12 / 210_000 * 100_000,
                ),
                "bcf_avoidable_admissions_per_100k": (
                    "admissions per 100,000 per year",
                    values["emergency_admissions"][1] * 0.21 / 210_000 * 100_000,
                ),
            }
            for measure, (unit, value) in {**values, **derived}.items():
                rows.append(
                    {
                        "scenario": SCENARIO,
                        "world": world,
                        "replication": replication,
                        "seed": 1000 + replication,
                        "measure": measure,
                        "unit": unit,
                        "value": float(value),
                    }
                )
    return pd.DataFrame(rows)


def _summary(replications: pd.DataFrame) -> pd.DataFrame:
    rows = []
    units = replications.groupby("measure")["unit"].first()
    wide = replications.pivot_table(index=["measure", "replication"], columns="world", values="value")
    for measure, table in wide.groupby(level="measure", sort=False):
        for world, values in (
            ("baseline", table["baseline"]),
            (MIX, table[MIX]),
            ("difference", table[MIX] - table["baseline"]),
        ):
            mean, low, high = _estimate(values.to_numpy())
            rows.append(
                {
                    "scenario": SCENARIO,
                    "world": world,
                    "measure": measure,
                    "unit": units[measure],
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": len(values),
                }
            )
    return pd.DataFrame(rows)


def _attribution() -> pd.DataFrame:
    rows = []
    for scheme, avoided in zip(SCHEMES, SCHEME_ADMISSIONS_AVOIDED, strict=True):
        for method, scale in (("one_at_a_time", 1.0), ("leave_one_out", 0.92)):
            mean = -avoided * scale
            rows.append(
                {
                    "scheme": scheme,
                    "method": method,
                    "measure": "emergency_admissions",
                    "mean": mean,
                    "ci_low": mean - 30,
                    "ci_high": mean + 30,
                    "n": REPLICATIONS,
                }
            )
    rows.append(
        {
            "scheme": "remainder",
            "method": "remainder",
            "measure": "emergency_admissions",
            "mean": -REMAINDER_ADMISSIONS,
            "ci_low": -REMAINDER_ADMISSIONS - 35,
            "ci_high": -REMAINDER_ADMISSIONS + 35,
            "n": REPLICATIONS,
        }
    )
    return pd.DataFrame(rows)


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
                            "date": dates.date,
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
                rows.append((world, replication, month, "emergency_admissions", 760 * winter * factor))
    return pd.DataFrame(rows, columns=["world", "replication", "month", "measure", "value"])


def _calibration() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("emergency_admissions", "admissions per year", 9200, 0.05, 8740, 9660, 9110, 9020, 9200, True),
            ("acute_bed_days", "bed days per year", 55000, 0.05, 52250, 57750, 53700, 53100, 54300, True),
            ("delayed_days", "delayed days per year", 18000, 0.1, 16200, 19800, 21000, 20500, 21500, False),
        ],
        columns=[
            "measure",
            "unit",
            "target",
            "tolerance",
            "low",
            "high",
            "baseline_mean",
            "ci_low",
            "ci_high",
            "within",
        ],
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
    return {
        "status": status,
        "scenario": SCENARIO,
        "scenario_file": "scenarios/skc_test.yaml",
        "run_id": "20250401T120000-test",
        "caresim_version": "0.1.0",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "seeds": {"root_seed": 20250401},
        "replications": REPLICATIONS,
        "worlds": ["baseline", MIX, *SCHEMES],
        "timings": {"started": "2025-04-01T12:00:00", "finished": "2025-04-01T12:03:20", "seconds": 200.0},
        "bcf_targets": BCF_TARGETS,
        "claimed_benefit_per_year": CLAIMED_BENEFIT,
        "parameters_with_sources": [
            {"path": "demand.crises_per_year", "value": 53600, "source": "SUS 2023/24 extract", "flag": "seed"},
            {"path": "acute.beds", "value": 560, "source": "NHS England KH03 bed availability", "flag": "public"},
            {
                "path": "schemes.rapid_response.admissions_avoided_share",
                "value": 0.2,
                "source": "Local estimate, no published evaluation",
                "flag": "assumption",
            },
            {"path": "calibration.delayed_days", "value": 18000, "source": "BCF plan 2025/26", "flag": "target"},
            {
                "path": "costs.care_home_week",
                "value": 1000,
                "source": "Council rate <estimate> & uplift",
                "flag": "assumption",
            },
        ],
    }


def write_fake_run(run_dir: Path, status: str = "complete", with_optional_files: bool = True) -> Path:
    """Write a synthetic run folder into `run_dir` and return it."""
    rng = np.random.default_rng(7)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps(_manifest(status), indent=2))
    (run_dir / "scenario.yaml").write_text(f"name: {SCENARIO}\nreplications: {REPLICATIONS}\n")
    replications = _replication_values(rng)
    replications.to_parquet(run_dir / "replications.parquet")
    _summary(replications).to_csv(run_dir / "summary.csv", index=False)
    _daily(rng).to_parquet(run_dir / "daily.parquet")
    _monthly(rng).to_parquet(run_dir / "monthly.parquet")
    _attribution().to_csv(run_dir / "attribution.csv", index=False)
    _calibration().to_csv(run_dir / "calibration.csv", index=False)
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
    return run_dir
