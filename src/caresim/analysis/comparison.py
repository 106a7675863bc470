"""Several mixes side by side: paired differences against one baseline, ranked."""

from __future__ import annotations

import pandas as pd

from caresim.measures import RANKED


def comparison_frame(summary: pd.DataFrame, mixes: tuple[str, ...], main: str | None) -> pd.DataFrame:
    """Paired differences of each mix against the baseline (mean, CI of the mean, range of likely outcomes),
    ranked by admissions avoided."""
    rows = []
    for mix in mixes:
        label = "difference" if mix == main else f"difference:{mix}"
        part = summary[(summary["world"] == label) & summary["measure"].isin(RANKED)]
        for row in part.itertuples():
            rows.append((mix, row.measure, row.unit, row.mean, row.ci_low, row.ci_high, row.outcome_low,
                         row.outcome_high, row.n))
    frame = pd.DataFrame(rows, columns=["mix", "measure", "unit", "mean", "ci_low", "ci_high", "outcome_low",
                                        "outcome_high", "n"])
    order = (frame[frame["measure"] == "emergency_admissions_avoided"].sort_values("mean", ascending=False)["mix"]
             .tolist())
    frame["rank"] = frame["mix"].map({mix: i + 1 for i, mix in enumerate(order)})
    return frame.sort_values(["rank", "measure"]).reset_index(drop=True)
