"""The Excel workbook of a finished run: its tables as sheets, numbers stored as numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from caresim.measures import label_or_name
from caresim.outputs.chart_style import label
from caresim.outputs.run_data import RunData

MAXIMUM_COLUMN_WIDTH = 60
TITLED = ("world", "mix", "scheme")  # columns of names that have a title for readers


def about_table(run: RunData) -> pd.DataFrame:
    """Item/value rows describing the run; numeric values stay numeric."""
    manifest = run.manifest
    rows = [
        ("scenario", run.scenario_name),
        ("title", manifest.get("title")),
        ("scenario file", manifest.get("scenario_file")),
        ("scheme mix", run.mix_name),
        ("scheme mix title", run.mix_title),
        ("caresim version", run.version),
        ("run id", run.run_id),
        ("git commit", manifest.get("git_commit")),
        ("status", manifest.get("status")),
        ("started", manifest.get("started")),
        ("finished", manifest.get("finished")),
        ("seed", manifest.get("seed")),
        ("replications", run.replication_count),
        ("worlds", ", ".join(manifest.get("worlds", []))),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def labelled(table: pd.DataFrame | None, titles: dict[str, str]) -> pd.DataFrame | None:
    """The table with each measure's label from the registry beside its name, and each world's, mix's or scheme's
    title (from `titles`) beside its name."""
    if table is None:
        return None
    out = table.copy()
    for column in table.columns:
        if column == "measure":
            out.insert(out.columns.get_loc(column) + 1, "label", table[column].map(label_or_name))
        elif column in TITLED:
            out.insert(out.columns.get_loc(column) + 1, f"{column} title",
                       table[column].map(lambda name: _title(str(name), titles)))
    return out


def _title(name: str, titles: dict[str, str]) -> str:
    """A name's title, else its label; 'difference:mix' as 'Difference: <the mix's title>'."""
    kind, _, mix = name.partition(":")
    return f"{label(kind)}: {_title(mix, titles)}" if mix else titles.get(name) or label(name)


def _tidy(sheet: Worksheet, table: pd.DataFrame) -> None:
    """Freeze the header row, size columns to their contents and give numbers a readable format."""
    sheet.freeze_panes = "A2"
    for index, column in enumerate(table.columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        longest = max([len(str(column))] + [len(str(value)) for value in table[column].head(500)])
        sheet.column_dimensions[letter].width = min(longest + 2, MAXIMUM_COLUMN_WIDTH)
        if pd.api.types.is_float_dtype(table[column]):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "#,##0.00"


def write_workbook(run_dir: Path) -> Path:
    """Write `summary.xlsx` into a complete run folder and return its path."""
    run = RunData.load(Path(run_dir))
    titles = run.titles
    sheets = {
        "Summary": labelled(run.summary, titles),
        "Attribution": labelled(run.attribution, titles),  # none for a comparison, or a run without attribution
        "Calibration": labelled(run.calibration, titles),
        "Sampled": run.sampled,
        "Comparison": labelled(run.comparison, titles),
        "Years": labelled(run.years, titles) if len(run.year_labels) > 1 else None,
        "Money by year": run.money_by_year if len(run.year_labels) > 1 else None,
        "About": about_table(run),
    }
    path = run.run_dir / "summary.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            if table is None:
                continue
            table.to_excel(writer, sheet_name=name, index=False)
            _tidy(writer.sheets[name], table)
    return path
