"""Which effects' drawn sizes move the mix's results most: partial rank correlation (PRCC) across replications.

Each replication draws every effect size once, so the replications are a Monte-Carlo sample of the
evidence; the PRCC of a size with a result is the rank correlation left once the other sizes' ranks are
accounted for (Marino et al., J Theor Biol 2008), signed: positive when a larger size gives a larger
result. With too few replications for the partial correlation (fewer than the varying sizes plus ten),
the plain Spearman rank correlation stands in (the sizes are drawn independently, so it measures the same
monotone relation, less sharply) and the table says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from caresim.analysis.summary import paired_differences

TORNADO_MEASURES = ("emergency_admissions_avoided", "net_cost")
PRCC = "partial rank correlation"
SPEARMAN = "rank correlation"
SPARE_REPLICATIONS = 10  # replications beyond the number of varying sizes that PRCC needs


def _residuals(target: np.ndarray, others: np.ndarray) -> np.ndarray:
    """What is left of ``target`` after a least-squares fit on ``others`` and an intercept."""
    design = np.column_stack([np.ones(len(target)), others])
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    return target - design @ coefficients


def prcc(inputs: pd.DataFrame, output: pd.Series) -> pd.Series:
    """PRCC of each input column with ``output`` (rows paired); NaN for an input that never varies or when there
    are too few rows (at least the number of varying inputs plus three)."""
    varying = [column for column in inputs.columns if inputs[column].nunique() > 1]
    result = pd.Series(np.nan, index=inputs.columns, dtype=float)
    if not varying or len(output) < len(varying) + 3 or output.nunique() < 2:
        return result
    ranks = inputs[varying].rank().to_numpy(dtype=float)
    ranked_output = output.rank().to_numpy(dtype=float)
    for index, column in enumerate(varying):
        others = np.delete(ranks, index, axis=1)
        x, y = _residuals(ranks[:, index], others), _residuals(ranked_output, others)
        result[column] = float(stats.pearsonr(x, y).statistic) if x.std() > 0 and y.std() > 0 else np.nan
    return result


def rank_correlations(inputs: pd.DataFrame, output: pd.Series) -> tuple[pd.Series, str]:
    """PRCC of each input with the output, or the Spearman correlation when the rows are too few for PRCC."""
    varying = sum(inputs[column].nunique() > 1 for column in inputs.columns)
    if len(output) >= varying + SPARE_REPLICATIONS:
        return prcc(inputs, output), PRCC
    spearman = {column: (stats.spearmanr(inputs[column], output).statistic
                         if inputs[column].nunique() > 1 and output.nunique() > 1 else np.nan)
                for column in inputs.columns}
    return pd.Series(spearman, dtype=float), SPEARMAN


def tornado_frame(draws: pd.DataFrame, frame: pd.DataFrame, main_mix: str) -> pd.DataFrame:
    """PRCC of each drawn effect size (effect_draws.csv) with the mix's admissions avoided and net cost:
    scheme, effect, measure, correlation, method, n; strongest on admissions first; no row for a size that never
    varies (a fixed effect, or every size under --effects central)."""
    columns = ["scheme", "effect", "measure", "correlation", "method", "n"]
    if draws.empty:
        return pd.DataFrame(columns=columns)
    sizes = draws.pivot_table(index="replication", columns=["scheme", "effect"], values="size")
    difference = paired_differences(frame, main_mix).reindex(sizes.index)
    rows = []
    for measure in TORNADO_MEASURES:
        values, method = rank_correlations(sizes, difference[measure])
        rows += [(scheme, effect, measure, value, method, len(sizes)) for (scheme, effect), value in values.items()
                 if sizes[(scheme, effect)].nunique() > 1]
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    strength = table[table["measure"] == TORNADO_MEASURES[0]].set_index(["scheme", "effect"])["correlation"].abs()
    order = {key: rank for rank, key in enumerate(strength.sort_values(ascending=False, na_position="last").index)}
    table["order"] = [order[(s, e)] for s, e in zip(table["scheme"], table["effect"], strict=True)]
    return table.sort_values(["order", "measure"]).drop(columns="order").reset_index(drop=True)
