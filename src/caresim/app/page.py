"""The `caresim app` page, run by Streamlit (`streamlit run page.py -- SCENARIO`): switch schemes on and off, pick
their options, pin effect sizes, and read the headline, the money and the charts as the draws come in."""

from __future__ import annotations

import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from caresim.app.question import Question, answer, batches, movable_sizes, own_question, question_plan, simulate
from caresim.experiment.options import options_of, with_options
from caresim.experiment.replication import ReplicationFailed, WorldResult
from caresim.outputs.chart_style import chart_path, format_value
from caresim.outputs.charts import bcf_metrics, delays_by_month, occupancy_fan
from caresim.outputs.decision_charts import money
from caresim.outputs.money_tables import ledger_rows
from caresim.outputs.paper import write_paper
from caresim.outputs.report import headline_rows, write_report
from caresim.outputs.run_data import DIFFERENCE, RunData
from caresim.run_folder import NET_CASH
from caresim.scenario.schema import Scenario
from caresim.scenario.sources import SourcedScenario, load_sourced

BATCH = 2  # draws simulated at once, one per core of a small machine: the first answer comes after one batch
MAX_DRAWS = 40
CHARTS = (money, bcf_metrics, occupancy_fan, delays_by_month)
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
INTRO = ("What the scheme mix buys against doing nothing, on the same simulated people. Switch schemes on or off, "
         "pick their options and pin effect sizes within their evidence in the sidebar. The first answer comes from "
         f"{BATCH} draws (about 15–20 seconds for the South Kent Coast scenario on an idle 2-core computer) and is "
         "refined as more draws arrive; the baseline is kept, so a change simulates only the mix. The app runs on this "
         "computer only (localhost).")


@st.cache_resource
def loaded(path: str) -> SourcedScenario:
    return load_sourced(Path(path))


@st.cache_resource
def kept_worlds() -> dict[tuple[str, int], WorldResult]:
    """Every world of every draw simulated since the app started, shared by the page's sessions."""
    return {}


@st.cache_resource
def scratch() -> tempfile.TemporaryDirectory:
    """Where the answers' run folders are written; removed when the app stops."""
    return tempfile.TemporaryDirectory(prefix="caresim-app-")


def words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def controls(scenario: Scenario, draws: int) -> tuple[Question, int]:
    """The sidebar: each scheme switched on or off, its option and its effect sizes; the number of draws."""
    own = own_question(scenario)
    options: dict[str, str] = {}
    pinned: dict[tuple[str, str], float] = {}
    sidebar = st.sidebar
    sidebar.header("Schemes")
    for name, scheme in scenario.schemes.items():
        on = sidebar.toggle(scheme.title, value=name in own.options, key=f"on/{name}")
        with sidebar.expander("Option and effect sizes"):
            choices = options_of(scenario, name)
            option = st.selectbox("Option", choices, index=choices.index(own.options.get(name, choices[0])),
                                  key=f"option/{name}", disabled=not on or len(choices) == 1,
                                  format_func=lambda o, s=scheme: s.options[o].title or o if o in s.options else o)
            at = with_options(scenario, {name: option}).scheme(name)
            for effect, size in movable_sizes(at).items():
                pin = st.checkbox(f"Pin: {words(effect).lower()}", key=f"pin/{name}/{effect}", disabled=not on)
                value = st.slider(words(effect), size.low, size.high, size.value, step=(size.high - size.low) / 50,
                                  format="%.3f", key=f"size/{name}/{option}/{effect}", disabled=not (on and pin),
                                  help=f"Evidence range {size.low:g} to {size.high:g} ({size.distribution}), point "
                                       f"value {size.value:g}. Not pinned: drawn from this range in every draw.")
                if on and pin:
                    pinned[(name, effect)] = value
        if on:
            options[name] = option
    draws = sidebar.slider("Draws", BATCH, MAX_DRAWS, min(draws, MAX_DRAWS),
                           help="Draws of effect sizes and chance per answer, simulated in batches of "
                                f"{BATCH}; the answer is refined after each batch.")
    return Question(options, pinned), draws


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder.parent))
    return buffer.getvalue()


def show(folder: Path, final: bool) -> None:
    """One answer, read from its run folder: headline figures and table, money ledger, downloads, and (once every
    draw is in) the charts."""
    run = RunData.load(folder)
    admissions = run.estimate(DIFFERENCE, "emergency_admissions").reduction()
    delayed = run.estimate(DIFFERENCE, "delayed_days").reduction()
    plan = run.money_comparisons()[0]
    net_cash, _ = run.money_total(plan, NET_CASH)
    left, middle, right = st.columns(3)
    left.metric("Emergency admissions avoided a year", format_value(admissions.mean, admissions.unit))
    middle.metric("Delayed days avoided a year", format_value(delayed.mean, delayed.unit))
    right.metric("Net cash cost a year", format_value(net_cash.mean, net_cash.unit), help=plan)
    headers, rows = headline_rows(run)
    st.subheader("Headline: the mix against doing nothing")
    st.table(pd.DataFrame(rows, columns=headers), hide_index=True)
    indicative = " (indicative: its ends are not yet stable)" if run.replication_count < run.stable_draws else ""
    st.caption(f"Means over {run.replication_count} draws, the mix and the baseline on the same people. Range of "
               f"likely outcomes: 2.5 to 97.5 percentiles across draws, each drawing its own effect sizes{indicative}; "
               "precision: 95% CI of the mean.")
    headers, rows = ledger_rows(folder)
    st.subheader("Money a year by payer (saved: positive)")
    st.table(pd.DataFrame(rows, columns=headers), hide_index=True)
    zip_column, report_column, paper_column = st.columns(3)
    zip_column.download_button("Run folder (.zip)", lambda: zipped(folder), f"{folder.name}.zip", "application/zip",
                               key=f"zip/{folder.name}", on_click="ignore")
    report_column.download_button("Report (HTML)", lambda: write_report(folder).read_bytes(), "report.html",
                                  "text/html", key=f"report/{folder.name}", on_click="ignore")
    paper_column.download_button("Board paper (Word)", lambda: write_paper(folder).read_bytes(), "paper.docx", WORD,
                                 key=f"paper/{folder.name}", on_click="ignore")
    if not final:
        st.caption("The charts follow when every draw is in.")
        return
    for tab, chart in zip(st.tabs(["Money", "BCF metrics", "Bed occupancy", "Delays by month"]), CHARTS, strict=True):
        chart(run)
        path = chart_path(run, chart.__name__)
        tab.image(str(path), width=1000, alt=path.with_suffix(".txt").read_text(encoding="utf-8"))


def main(path: str, draws: int) -> None:
    origin = loaded(path)
    scenario = origin.scenario
    st.set_page_config(page_title=f"caresim: {scenario.title}", layout="wide")
    st.title(scenario.title)
    st.caption(INTRO)
    question, draws = controls(scenario, draws)
    plan = question_plan(scenario, question, draws)
    if not plan.mixes:
        st.info("Switch on at least one scheme to see what it buys.")
        return
    status, area = st.empty(), st.empty()
    status.info(f"Simulating the first {BATCH} draws…")
    started = time.perf_counter()
    results = []
    for batch in batches(draws, BATCH):
        try:
            results += simulate(plan, batch, kept_worlds())
        except ReplicationFailed as error:  # e.g. a mix that leaves a service unable to keep up
            status.error(f"The model cannot run this question: {error}")
            return
        seconds = time.perf_counter() - started
        folder = answer(plan, origin, Path(scratch().name), results, seconds)
        with area.container():
            show(folder, final=batch.stop == draws)
        if batch.stop < draws:
            status.info(f"Answer from {batch.stop} of {draws} draws after {seconds:.0f} s; simulating more…")
    status.success(f"Answer from all {draws} draws after {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
