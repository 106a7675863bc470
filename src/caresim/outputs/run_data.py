"""A finished run folder loaded into memory for charts, the report and the workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from caresim.measures import REGISTRY, reduction
from caresim.run_folder import read_complete_run

BASELINE = "baseline"
DIFFERENCE = "difference"


def reader_titles(manifest: dict[str, Any]) -> dict[str, str]:
    """The titles of a run's mixes and schemes, by name (manifest `mix_titles` and `scheme_titles`)."""
    return {**(manifest.get("scheme_titles") or {}), **(manifest.get("mix_titles") or {})}


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% confidence interval (the precision of the mean) and the range of likely outcomes
    (2.5 to 97.5 percentiles across replications, each drawing its own effect sizes; NaN where not given)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int
    unit: str
    outcome_low: float = float("nan")
    outcome_high: float = float("nan")

    def reduction(self) -> Estimate:
        """A change (mix − baseline) read as a reduction (baseline − mix), its intervals turned round."""
        return Estimate(reduction(self.mean), reduction(self.ci_high), reduction(self.ci_low), self.n, self.unit,
                        reduction(self.outcome_high), reduction(self.outcome_low))

    def outcomes_exclude_zero(self) -> bool:
        """True when the whole range of likely outcomes lies on one side of zero."""
        return self.outcome_low > 0 or self.outcome_high < 0

    def excludes_zero(self) -> bool:
        """True when the whole confidence interval lies on one side of zero."""
        return self.ci_low > 0 or self.ci_high < 0


def read_optional_csv(run_dir: Path, name: str) -> pd.DataFrame | None:
    """A table of the run folder that not every run writes; None when this one did not."""
    path = Path(run_dir) / name
    return pd.read_csv(path) if path.exists() else None


@dataclass(frozen=True)
class RunData:
    """Every table of a complete run folder, plus its manifest."""

    run_dir: Path
    manifest: dict
    summary: pd.DataFrame
    replications: pd.DataFrame
    daily: pd.DataFrame
    monthly: pd.DataFrame
    attribution: pd.DataFrame | None
    calibration: pd.DataFrame
    sampled: pd.DataFrame
    flows: pd.DataFrame
    comparison: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    tornado: pd.DataFrame | None = None
    money: pd.DataFrame | None = None
    years: pd.DataFrame | None = None  # years.csv: summary.csv for each year of the measured window
    money_by_year: pd.DataFrame | None = None  # money_by_year.csv: each year's ledger and running totals

    @classmethod
    def load(cls, run_dir: Path) -> RunData:
        """Load a run folder; raises `IncompleteRunError` unless its manifest says complete."""
        run_dir = Path(run_dir)
        manifest = read_complete_run(run_dir)
        return cls(
            run_dir=run_dir,
            manifest=manifest,
            summary=pd.read_csv(run_dir / "summary.csv"),
            replications=pd.read_parquet(run_dir / "replications.parquet"),
            daily=pd.read_parquet(run_dir / "daily.parquet"),
            monthly=pd.read_parquet(run_dir / "monthly.parquet"),
            attribution=read_optional_csv(run_dir, "attribution.csv"),
            calibration=pd.read_csv(run_dir / "calibration.csv"),
            sampled=pd.read_csv(run_dir / "sampled.csv"),
            flows=pd.read_csv(run_dir / "flows.csv"),
            comparison=read_optional_csv(run_dir, "comparison.csv"),
            sensitivity=read_optional_csv(run_dir, "sensitivity.csv"),
            tornado=read_optional_csv(run_dir, "tornado.csv"),
            money=read_optional_csv(run_dir, "money.csv"),
            years=read_optional_csv(run_dir, "years.csv"),
            money_by_year=read_optional_csv(run_dir, "money_by_year.csv"),
        )

    @property
    def scenario_name(self) -> str:
        return str(self.manifest.get("scenario", self.run_dir.parent.name))

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.run_dir.name))

    @property
    def version(self) -> str:
        return str(self.manifest.get("caresim_version", "unknown version"))

    @property
    def replication_count(self) -> int:
        return int(self.manifest.get("replications", self.replications["replication"].nunique()))

    @property
    def mix_name(self) -> str:
        """The main scheme mix: manifest `main_mix`, or the only scheme-mix world in summary.csv."""
        worlds = [w for w in self.summary["world"].unique() if w != BASELINE and not w.startswith(DIFFERENCE)]
        main = self.manifest.get("main_mix")
        if main in worlds:
            return str(main)
        if len(worlds) == 1:
            return str(worlds[0])
        raise ValueError(f"cannot tell the main scheme mix among {worlds}: the manifest should name it as main_mix")

    @property
    def mix_title(self) -> str:
        return self.title_of(self.mix_name)

    def title_of(self, mix: str) -> str:
        """A mix's title for readers (manifest `mix_titles`), else its name."""
        return str((self.manifest.get("mix_titles") or {}).get(mix, mix))

    @property
    def titles(self) -> dict[str, str]:
        """Every mix's and scheme's title for readers, by name."""
        return reader_titles(self.manifest)

    def scheme_title(self, scheme: str) -> str | None:
        """A scheme's title from the manifest's `scheme_titles`, if recorded."""
        return (self.manifest.get("scheme_titles") or {}).get(scheme)

    @property
    def finished(self) -> str:
        """When the run finished, as '1 April 2025', from the manifest's ISO `finished` time."""
        finished = self.manifest.get("finished")
        if not finished:
            return "date not recorded"
        moment = datetime.fromisoformat(str(finished))
        return f"{moment.day} {moment:%B %Y}"

    @property
    def charts_dir(self) -> Path:
        return self.run_dir / "charts"

    @property
    def source_note(self) -> str:
        return (
            f"Source: caresim {self.version}, scenario file {self.manifest.get('scenario_file', self.scenario_name)}, "
            f"{self.replication_count} paired replications"
        )

    @property
    def assumption_count(self) -> int:
        parameters = self.manifest.get("parameters_with_sources", [])
        return sum(1 for parameter in parameters if parameter.get("flag") == "assumption")

    def has_measure(self, world: str, measure: str) -> bool:
        rows = self.summary
        return bool(((rows["world"] == world) & (rows["measure"] == measure)).any())

    def estimate(self, world: str, measure: str) -> Estimate:
        """The summary.csv row for one world (`baseline`, the mix name or `difference`) and measure.

        The unit is the registry's (`caresim.measures`) for every registered measure."""
        rows = self.summary[(self.summary["world"] == world) & (self.summary["measure"] == measure)]
        if rows.empty:
            raise KeyError(f"summary.csv has no row for world {world!r}, measure {measure!r}")
        row = rows.iloc[0]
        unit = REGISTRY[measure].unit if measure in REGISTRY else str(row["unit"])
        return Estimate(float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]), int(row["n"]), unit,
                        float(row.get("outcome_low", float("nan"))), float(row.get("outcome_high", float("nan"))))

    def money_comparisons(self) -> list[str]:
        """The money ledger's comparisons (money.csv), in order: the plan against what existed first."""
        return [] if self.money is None else list(dict.fromkeys(self.money["comparison"]))

    def money_total(self, comparison: str, kind: str) -> tuple[Estimate, float]:
        """One money.csv row of a comparison (a change in spending a year, mean over its years; negative: saved)
        with the share of replications in which it was below zero."""
        money = self.money if self.money is not None else pd.DataFrame(columns=["comparison", "kind"])
        rows = money[(money["comparison"] == comparison) & (money["kind"] == kind)]
        if rows.empty:
            raise KeyError(f"money.csv has no {kind!r} row for {comparison!r}")
        row = rows.iloc[0]
        estimate = Estimate(float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]), int(row["n"]), "pounds",
                            float(row["p2_5"]), float(row["p97_5"]))
        return estimate, float(row.get("share_below_zero", float("nan")))

    @property
    def year_labels(self) -> list[str]:
        """The years of the measured window in order (2015/16, 2016/17, …); none for a run without years.csv."""
        return [] if self.years is None else list(dict.fromkeys(self.years["year"]))

    def year_estimate(self, year: str, world: str, measure: str) -> Estimate | None:
        """The years.csv row for one year, world and measure, or None."""
        if self.years is None:
            return None
        table = self.years
        rows = table[(table["year"] == year) & (table["world"] == world) & (table["measure"] == measure)]
        if rows.empty:
            return None
        row = rows.iloc[0]
        unit = REGISTRY[measure].unit if measure in REGISTRY else str(row["unit"])
        return Estimate(float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]), int(row["n"]), unit,
                        float(row["outcome_low"]), float(row["outcome_high"]))

    @property
    def effects_central(self) -> bool:
        """True when every effect ran at its point value (`caresim run --effects central`)."""
        return self.manifest.get("effects") == "central"

    @property
    def stable_draws(self) -> int:
        """Replications from which the manifest counts the range of likely outcomes as stable."""
        return int(self.manifest.get("stable_draws", 200))
