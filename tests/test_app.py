"""`caresim app`: the question built from the page's controls, answered from kept worlds exactly as a run answers
it; and the page itself in headless Chromium, switching a scheme off."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from caresim.app.question import Question, answer, asked, movable_sizes, own_question, question_plan, simulate
from caresim.experiment.plan import BASELINE, NO_FUND
from caresim.experiment.replication import run_replication
from caresim.scenario.sources import load_sourced
from conftest import ROOT

SHORT_RUN = "run: {days: 30, warm_up_days: 5}\n"


def short_file(folder: Path) -> Path:
    path = folder / "skc_short.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'skc_2015.yaml'}\nname: skc_short\n{SHORT_RUN}", encoding="utf-8")
    return path


def test_the_scenario_as_written_is_its_own_question(skc):
    question = own_question(skc)
    assert tuple(question.options) == skc.mix_schemes and not question.pinned
    assert asked(skc, question).mix_schemes == skc.mix_schemes and asked(skc, question).title == skc.title


def test_a_question_switches_schemes_off_sets_options_and_pins_sizes(skc):
    options = {**own_question(skc).options, "integrated_teams_reablement": "high"}
    del options["housing"]
    pinned = {("enhance_primary_care", "self_presentation_to_gp"): 0.1, ("housing", "faster_assessment"): 0.8}
    plan = question_plan(skc, Question(options, pinned), 4)
    scenario = plan.scenario
    assert "housing" not in scenario.mix_schemes and len(scenario.mix_schemes) == len(skc.mix_schemes) - 1
    assert scenario.scheme("integrated_teams_reablement") == skc.scheme("integrated_teams_reablement").at("high")
    assert set(plan.worlds) == {BASELINE, skc.mix_name, NO_FUND} and plan.replications == 4
    assert plan.fixed_sizes == {skc.mix_name: {("enhance_primary_care", "self_presentation_to_gp"): 0.1}}
    share = movable_sizes(skc.scheme("enhance_primary_care"))["self_presentation_to_gp"]
    assert (share.low, share.high) == (0.067, 0.183)
    assert "hub_appointments" not in movable_sizes(skc.scheme("enhance_primary_care"))  # a capacity: no range


def test_kept_worlds_answer_exactly_as_a_run_does(tmp_path):
    """The baseline kept from one question serves another; every world matches a replication run in one go."""
    origin = load_sourced(short_file(tmp_path))
    short = origin.scenario
    store: dict = {}
    first = question_plan(short, own_question(short), 1)
    simulate(first, range(1), store, "serial")
    options = {name: option for name, option in own_question(short).options.items() if name != "housing"}
    plan = question_plan(short, Question(options, {("falls_prevention", "falls_response"): 0.2}), 1)
    kept = len(store)
    (results,) = simulate(plan, range(1), store, "serial")
    assert len(store) == kept + 1  # only the new mix was simulated
    (whole,) = [run_replication(replace(plan, replications=1), 0)]
    assert [r.world for r in results] == [r.world for r in whole]
    for ours, theirs in zip(results, whole, strict=True):
        np.testing.assert_equal(ours.measures, theirs.measures)  # bit for bit (NaN where a service is off)
    folder = answer(plan, origin, tmp_path / "out", [results], 1.0)
    summary = pd.read_csv(folder / "summary.csv")
    assert {"baseline", short.mix_name, "difference"} <= set(summary["world"])


CHROMIUM = Path("/usr/bin/chromium")  # Debian's, installed by .ci/run; playwright drives it (no `playwright install`)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    """`caresim app` on a month-long SKC, two draws an answer; the server and its workers are stopped after."""
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "caresim", "app", str(short_file(tmp_path)), "--port", str(port),
                               "--draws", "2"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not start in 60 s"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the whole group: the server and any replication workers
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian: apt-get install chromium)")
def test_switching_a_scheme_off_moves_the_headline(app_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(app_url)
            admissions = page.get_by_test_id("stMetricValue").first
            expect(admissions).to_be_visible(timeout=120_000)  # the first answer; switch at once, before its charts
            before = admissions.inner_text()
            page.get_by_test_id("stSidebar").get_by_text("Integrated Teams and Reablement").click()
            page.wait_for_function("before => [document.querySelector('[data-testid=stMetricValue]')?.innerText]"
                                   ".some(now => now !== undefined && now !== before)", arg=before, timeout=120_000)
            expect(page.get_by_text("Answer from all 2 draws")).to_be_visible(timeout=120_000)
            expect(page.get_by_role("img").first).to_be_visible()  # the charts
            after = admissions.inner_text()
            page.screenshot(path=tmp_path / "app.png", full_page=True)
        finally:
            browser.close()
    assert after != before and (tmp_path / "app.png").stat().st_size > 0
