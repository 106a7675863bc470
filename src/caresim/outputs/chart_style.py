"""The charts' house style: Okabe-Ito palette, readers' labels, number formats and figure size.

Each chart is saved as PNG (300 dpi), SVG and alt text in `<run>/charts/`."""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure

from caresim.measures import REGISTRY
from caresim.outputs.run_data import Estimate, RunData

ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#999999"
OKABE_ITO = (ORANGE, SKY_BLUE, BLUISH_GREEN, YELLOW, BLUE, VERMILLION, REDDISH_PURPLE, BLACK)
BASELINE_COLOUR = ORANGE
MIX_COLOUR = BLUE

LABELS = {  # services, delay reasons, flow nodes; measures take their labels from caresim.measures
    "ae_cubicles": "A&E cubicles",
    "acute_beds": "Acute beds",
    "intermediate_care_beds": "Intermediate care beds",
    "step_down_beds": "Step-down beds",
    "step_up_beds": "Step-up beds",
    "residential_care": "Residential care homes",
    "nursing_care": "Nursing care homes",
    "awaiting_assessment": "Awaiting assessment",
    "home_care_package": "Home care package",
    "community_bed": "Community bed",
    "care_at_home": "Care package at home",
    "care_home_placement": "Care home placement",
    "patient_choice": "Patient or family choice",
    "crisis": "Crisis",
    "gp": "GP",
    "nhs_111": "111 / out of hours",
    "111_out_of_hours": "111 / out of hours",
    "out_of_hours": "111 / out of hours",
    "ambulance": "Ambulance",
    "minor_injury_unit": "Minor injury unit",
    "a_and_e": "A&E",
    "a_e": "A&E",
    "emergency_department": "A&E",
    "rapid_response": "Rapid response",
    "reablement": "Reablement",
    "home_care": "Home care",
    "care_homes": "Care homes",
    "home": "Home",
    "death": "Death",
    "interaction": "Interaction between schemes",
}

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "svg.fonttype": "none",
    "svg.hashsalt": "caresim",
}
FIGURE_WIDTH_INCHES = 7.2
FOOTNOTE_INCHES = 0.36
CONFIDENCE_NOTE = "Bars show means; whiskers show 95% confidence intervals across paired replications."


def name_key(name: str) -> str:
    """Lower-case words joined by underscores, so 'A&E', 'acute beds' and 'acute_beds' can be looked up."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def label(name: str) -> str:
    """A reader's label for a measure (from the registry), service, scheme, node or parameter name."""
    if name in REGISTRY:
        return REGISTRY[name].label
    if name_key(name) in LABELS:
        return LABELS[name_key(name)]
    words = name.replace("_", " ").replace(".", ": ")
    return words[:1].upper() + words[1:]


def in_sentence(text: str) -> str:
    """A label inside a sentence: its first letter in lower case, unless its first word is an abbreviation (NHS, A&E);
    abbreviations later in it (BCF) stay as they are."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]


def format_number(value: float) -> str:
    """Three significant figures with thousands separators and a true minus sign (245, 12,300, 0.15)."""
    if not math.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, 2 - magnitude)
    text = f"{round(value, 2 - magnitude):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "−")


def format_money(value: float) -> str:
    """Pounds as £2.4m, £350k or £950."""
    if not math.isfinite(value):
        return "n/a"
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        return f"{sign}£{size / 1e6:,.1f}m"
    if size >= 1e3:
        return f"{sign}£{format_number(size / 1e3)}k"
    return f"{sign}£{size:,.0f}"


def format_value(value: float, unit: str) -> str:
    """A number formatted for its unit (pounds as money, everything else to three figures)."""
    return format_money(value) if "pound" in unit.lower() else format_number(value)


def format_interval(estimate: Estimate) -> str:
    """'95% CI a to b' in the estimate's unit."""
    return f"95% CI {format_value(estimate.ci_low, estimate.unit)} to {format_value(estimate.ci_high, estimate.unit)}"


def wrap(text: str, width: int) -> str:
    """Lines of at most `width` characters, never splitting a word."""
    return textwrap.fill(text, width, break_long_words=False)


def chart_path(run: RunData, name: str) -> Path:
    """The PNG file of a chart; the SVG and alt text sit beside it."""
    return run.charts_dir / f"{name}.png"


def styled(chart: Callable[[RunData], pd.DataFrame]) -> Callable[[RunData], pd.DataFrame]:
    """Draw a chart inside the house style without touching global matplotlib settings."""

    @functools.wraps(chart)
    def drawn(run: RunData) -> pd.DataFrame:
        with matplotlib.rc_context(STYLE):
            return chart(run)

    return drawn


def new_figure(height: float) -> SubFigure:
    """A figure of house width: the chart goes in the returned upper part, the footnote below it."""
    figure = Figure(figsize=(FIGURE_WIDTH_INCHES, height), layout="constrained")
    FigureCanvasAgg(figure)
    content, _ = figure.subfigures(2, 1, height_ratios=[height - FOOTNOTE_INCHES, FOOTNOTE_INCHES])
    return content


def save_chart(figure: SubFigure, run: RunData, name: str, title: str, alt_text: str, note: str = "") -> None:
    """Title, footnote, then PNG (300 dpi), SVG and alt text files."""
    figure.suptitle(wrap(title, 72), x=0.01, ha="left")
    root = figure.get_figure(root=True)
    footnote = " ".join(part for part in (note, run.source_note + ".") if part)
    root.subfigs[1].text(0.01, 0.1, wrap(footnote, 150), fontsize=6.5, color="#444444", va="bottom")
    png = chart_path(run, name)
    png.parent.mkdir(parents=True, exist_ok=True)
    root.savefig(png, dpi=300, facecolor="white")
    root.savefig(png.with_suffix(".svg"), facecolor="white", metadata={"Date": None})
    png.with_suffix(".txt").write_text(f"{title}. {alt_text}\n", encoding="utf-8")


def assumption_note(run: RunData) -> str:
    count = run.assumption_count
    return f"{count} model inputs are assumptions rather than evidence (listed in the report)." if count else ""


def bar_labels(axes: Axes, positions: np.ndarray, values: pd.Series, texts: list[str]) -> None:
    """Value labels just above each bar (or its whisker), on white so lines do not strike through them."""
    for position, value, text in zip(positions, values, texts, strict=True):
        axes.annotate(
            text,
            (position, value),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
