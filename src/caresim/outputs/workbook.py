"""The Excel workbook of a finished run: its tables as sheets, numbers stored as numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from caresim.measures import label_or_name
from caresim.outputs.run_data import RunData

MAXIMUM_COLUMN_WIDTH = 60


def about_table(run: RunData) -> pd.DataFrame:
    """Item/value rows describing the run; numeric values stay numeric."""
    manifest = run.manifest
    rows = [
        ("scenario", run.scenario_name),
        ("title", manifest.get("title")),
        ("scenario file", manifest.get("scenario_file")),
        ("scheme mix", run.mix_name),
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


def labelled(table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The table with each measure's label from the registry beside its name."""
    if table is None or "measure" not in table.columns:
        return table
    out = table.copy()
    out.insert(table.columns.get_loc("measure") + 1, "label",
               table["measure"].map(label_or_name))
    return out


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
    sheets = {
        "Summary": labelled(run.summary),
        "Attribution": labelled(run.attribution),  # none for a comparison, or a run without attribution
        "Calibration": labelled(run.calibration),
        "Sampled": run.sampled,
        "Comparison": labelled(run.comparison),
        "Years": labelled(run.years) if len(run.year_labels) > 1 else None,
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
