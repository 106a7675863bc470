"""Every plausible mistake in a scenario file gives exit code 2 and a sentence at its line, never a traceback.

Each case is a text edit to a copy of scenarios/skc_2015.yaml, run through the real command line.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caresim.cli import app
from conftest import SKC, skc_text

FILE = "skc.yaml"
Edit = Callable[[str], str | bytes]


def swap(pattern: str, replacement: str) -> Edit:
    """Replace the one match of a multi-line pattern (the test fails loudly if the scenario changed shape)."""

    def edit(text: str) -> str:
        changed, count = re.subn(pattern, replacement, text, flags=re.M)
        assert count == 1, f"{pattern!r} matched {count} times in {SKC.name}"
        return changed

    return edit


def in_section(section: str, key: str, value: str, indent: int = 4) -> Edit:
    """Set `key` inside the block under `section:` (the first `key` below it) to `value`."""
    return swap(rf"^(  {section}:\n(?:{' ' * indent}.*\n)*?{' ' * indent}{key}:) \S+", rf"\g<1> {value}")


@dataclass(frozen=True)
class Case:
    """A mistake: the edit, the field it names, the text on the line it points at, and what it must say."""

    edit: Edit
    path: str | None
    line_of: str | None
    says: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    named: str = FILE


CASES = {
    "misspelt key": Case(swap(r"^  warm_up_days:", "  warmup_days:"), "run.warmup_days", "warmup_days:",
                         ("unknown field 'warmup_days'", "did you mean 'warm_up_days'?")),
    "misspelt required key": Case(swap(r"^    cubicles:", "    cubicle:"), "services.ae.cubicle", "cubicle:",
                                  ("unknown field 'cubicle'", "did you mean 'cubicles'?",
                                   "'cubicle' is written here: should it be 'cubicles'?")),
    "key YAML reads as true": Case(swap(r"^(  seed: .*\n)", r"\g<1>  yes: 5\n"), "run[True]", "yes: 5",
                                   ("the name True must be text", "put it in quotes")),
    "run without a seed": Case(swap(r"^  seed: .*\n", ""), "run.seed", "run:", ("required field 'seed' is missing",)),
    "run without a start": Case(swap(r"^  start: .*\n", ""), "run.start", "run:",
                                ("required field 'start' is missing",)),
    "unknown top-level section": Case(swap(r"^costs:", "budget:\n  total: 1000\ncosts:"), "budget", "budget:",
                                      ("unknown field 'budget'", "allowed: name, title")),
    "probability 1.2": Case(swap(r"^(  p1_reablement_share:) \S+", r"\g<1> 1.2"), "discharge.p1_reablement_share",
                            "p1_reablement_share:", ("must be a number ≤ 1", "found 1.2")),
    "negative capacity": Case(in_section("rapid_response", "capacity", "-5"), "services.rapid_response.capacity",
                              "capacity: -5", ("a whole number ≥ 0 or 'unlimited'", "found -5")),
    "capacity 3.5": Case(in_section("reablement", "capacity", "3.5"), "services.reablement.capacity",
                         "capacity: 3.5", ("must be a whole number or 'unlimited'", "found 3.5")),
    "capacity lots": Case(in_section("intermediate_care_beds", "capacity", "lots"),
                          "services.intermediate_care_beds.capacity", "capacity: lots",
                          ("must be a whole number or 'unlimited'", "found 'lots'")),
    "routing shares not summing to 1": Case(
        swap(r"^  minor_injury: \{.*?\}", "  minor_injury: {home: 0.92, ae: 0.18}"), "routing.minor_injury",
        "minor_injury: {home: 0.92", ("must add up to 1", "home 0.92, ae 0.18 add up to 1.1")),
    "routing to an unknown outcome": Case(
        swap(r"^  minor_injury: \{.*?\}", "  minor_injury: {home: 0.9, ae: 0.05, pharmacy: 0.05}"),
        "routing.minor_injury.pharmacy", "pharmacy: 0.05", ("unknown outcome 'pharmacy'", "allowed: home, ae")),
    "Excel thousands separator": Case(in_section("gp", "appointments_per_weekday", "1,100"),
                                      "services.gp.appointments_per_weekday", "1,100",
                                      ("found '1,100'", "write 1100 (no thousands separators)")),
    "Excel percentage": Case(swap(r"^(  gp_manageable_share:) \S+", r"\g<1> 12%"), "demand.gp_manageable_share",
                             "12%", ("must be a number", "write 0.12 for 12 %")),
    "Excel currency": Case(swap(r"^(  acute_bed_day:) \S+", r"\g<1> £331"), "costs.acute_bed_day", "£331",
                           ("must be a number", "write 331 (no currency symbol)")),
    "UK date": Case(swap(r"^(  housing:\n    title: .*\n)", r"\g<1>    start: 01/06/2015\n"),
                    "schemes.housing.start", "01/06/2015", ("write 2015-06-01",)),
    "YAML date where a number is wanted": Case(swap(r"^(  acute_bed_day:) \S+", r"\g<1> 2015-04-01"),
                                               "costs.acute_bed_day", "acute_bed_day:",
                                               ("must be a number", "found 2015-04-01", "as a date")),
    "line indented too far": Case(swap(r"^    when_full:", "      when_full:"), None, "when_full:",
                                  ("could not be read", "indentation")),
    "line indented too little": Case(swap(r"^  warm_up_days:", " warm_up_days:"), None, "warm_up_days:",
                                     ("could not be read", "indentation")),
    "tab character": Case(swap(r"^    when_full:", "\twhen_full:"), None, "when_full:",
                          ("tab character", "replace the tab with spaces")),
    "no space after a colon": Case(swap(r"^(    )when_full: ", r"\g<1>when_full:"), None, "when_full:",
                                   ("could not be read",)),
    "bracket never closed": Case(swap(r"^(  minor_injury: \{.*?)\}", r"\g<1>"), None, "minor_injury: {",
                                 ("bracket opened here is never closed",)),
    "duplicate key": Case(swap(r"^(    when_full: .*\n)", r"\g<1>    when_full: turn_away   # again\n"),
                          "services.acute_beds.when_full", "# again",
                          ("appears more than once", "first on line", "delete or rename one")),
    "missing required section": Case(swap(r"^costs:\n(?:(?:  .*)?\n)*", ""), "costs", "name:",
                                     ("required field 'costs' is missing",)),
    "unknown distribution": Case(swap(r"(episode: \{distribution:) \w+", r"\g<1> gamma"),
                                 "services.rapid_response.episode.distribution", "gamma",
                                 ("found 'gamma'", "'lognormal'")),
    "misspelt distribution": Case(swap(r"(episode: \{distribution:) \w+", r"\g<1> uniforn"),
                                  "services.rapid_response.episode.distribution", "uniforn",
                                  ("did you mean 'uniform'?",)),
    "lognormal given both forms": Case(
        swap(r"^(    length_of_stay: \{distribution: lognormal, mean: \S+, cv: [\d.]+)\}",
             r"\g<1>, median: 18, sigma: 0.5}"),
        "services.intermediate_care_beds.length_of_stay", "median: 18",
        ("give either 'mean' and 'cv', or 'median' and 'sigma'",)),
    "lognormal given neither form": Case(
        swap(r"^(    length_of_stay: \{distribution: lognormal), mean: \S+, cv: [\d.]+\}", r"\g<1>}"),
        "services.intermediate_care_beds.length_of_stay", "{distribution: lognormal}",
        ("give either 'mean' and 'cv', or 'median' and 'sigma'",)),
    "triangular low above high": Case(
        swap(r"(duration: \{distribution: triangular), low: \S+ mode: \S+ high: [\d.]+\}",
             r"\g<1>, low: 50, mode: 21, high: 42}"),
        "services.reablement.duration", "low: 50", ("low ≤ mode ≤ high",)),
    "initial occupancy above capacity": Case(in_section("reablement", "initial_occupancy", "4500"),
                                             "services.reablement.initial_occupancy", "initial_occupancy: 4500",
                                             ("initial_occupancy (4500) is above capacity",)),
    "effect at an unknown decision point": Case(swap(r"(at:) self_presentation", r"\g<1> self_referral"),
                                                r"schemes.enhance_primary_care.effects[N].at", "self_referral",
                                                ("found 'self_referral'", "did you mean 'self_presentation'?")),
    "effect on an unknown service": Case(swap(r"(name: reablement_places, service:) reablement", r"\g<1> social_work"),
                                         "schemes.integrated_teams_reablement.effects[N].service", "social_work",
                                         ("found 'social_work'", "allowed: 'rapid_response'")),
    "diversion to an unknown target": Case(swap(r"^(\s+to:) gp$", r"\g<1> pharmacy"),
                                           "schemes.enhance_primary_care.effects[N].to", "pharmacy",
                                           ("found 'pharmacy'", "allowed: 'gp'")),
    "unknown effect kind": Case(swap(r"(kind:) readmission\b", r"\g<1> readmissions"),
                                "schemes.neighbourhood_care_teams.effects[N].kind", "readmissions",
                                ("did you mean 'readmission'?",)),
    "unknown risk tier": Case(swap(r"(risk_tiers: \[)\w+", r"\g<1>top_0.5"),
                              "schemes.neighbourhood_care_teams.effects[N].eligible.risk_tiers[0]", "top_0.5",
                              ("names risk tier 'top_0.5'", "did you mean 'top_0_5'?")),
    "unknown locality": Case(swap(r"(eligible: \{crisis_types: \[fall\]), age_bands",
                                  r"\g<1>, localities: [Dovr], age_bands"),
                             "schemes.falls_prevention.effects[N].eligible.localities[0]", "Dovr",
                             ("names locality 'Dovr'", "did you mean 'Dover'?")),
    "scheme start before the run": Case(swap(r"^(  housing:\n    title: .*\n)", r"\g<1>    start: 2014-01-01\n"),
                                         "schemes.housing.start", "2014-01-01",
                                         ("starts on 2014-01-01, before the run",)),
    "variant naming an unknown scheme": Case(lambda text: text + "\nvariants:\n  no_falls:\n    schemes: [housng]\n",
                                             "variants.no_falls.schemes[0]", "housng",
                                             ("names scheme 'housng', which is not defined",
                                              "did you mean 'housing'?")),
    "mix naming an unknown scheme": Case(lambda text: text + "\nmix: [housing, falls_prevension]\n", "mix[1]",
                                         "falls_prevension", ("names scheme 'falls_prevension', which is not defined",
                                                              "did you mean 'falls_prevention'?")),
    "scheme cutting more places than exist": Case(
        swap(r"(kind: capacity, name: reablement_places, service: reablement, add:) \d+", r"\g<1> -1000"),
        "schemes.integrated_teams_reablement.effects[N].add", "add: -1000",
        ("removes 1000 places from reablement, which has",)),
    "extends a missing file": Case(lambda text: "extends: base_missing.yaml\n" + text, "extends", "extends:",
                                   ("does not exist", "relative to this file's folder")),
    "extends loop": Case(lambda text: "extends: loop.yaml\n" + text, "extends", "extends:",
                         ("goes round in a loop",), files={"loop.yaml": f"extends: {FILE}\nname: loop\n"},
                         named="loop.yaml"),
    "python tag on a value": Case(swap(r"^title: .*", 'title: !!python/object/apply:os.system ["touch pwned"]'),
                                  "title", "!!python", ("tags are not allowed",)),
    "python tag on the file": Case(lambda text: '!!python/object/apply:os.system ["touch pwned"]\n', None,
                                   "!!python", ("tags are not allowed",)),
    "python tag on a section": Case(swap(r"^run:", "run: !!python/object/new:os.system [touch pwned]\nrun_:"),
                                    "run", "run: !!python", ("tags are not allowed",)),
    "alias bomb": Case(lambda text: "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)), None, None,
        ("more than 100,000 values",)),
    "empty file": Case(lambda text: "", None, None, ("the file is empty",)),
    "only comments": Case(lambda text: "# to do\n", None, None, ("the file is empty",)),
    "a list": Case(lambda text: "- name: skc\n- title: x\n", None, "- name", ("holds a list",)),
    "not UTF-8": Case(lambda text: swap(r"^title: .*", "title: Caf\u00e9 scenario")(text).encode("cp1252", "replace"),
                      None, "title:", ("not saved as UTF-8", "Encoding: UTF-8")),
    "name escaping the output folder": Case(swap(r"^name: .*", "name: ../../x"), "name", "name:",
                                            ("found '../../x'", "for example 'x'")),
    "name that is '..'": Case(swap(r"^name: .*", "name: .."), "name", "name:", ("cannot start with '.'",)),
    "name ending in .partial": Case(swap(r"^name: .*", "name: skc.partial"), "name", "name:",
                                    ("end in '.partial'",)),
}
RUN_TOO = ("misspelt key", "capacity lots", "routing shares not summing to 1", "python tag on a value",
           "name escaping the output folder", "name that is '..'", "scheme start before the run")
runner = CliRunner()


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())


def write_case(case: Case, folder: Path) -> Path:
    edited = case.edit(skc_text())
    path = folder / FILE
    if isinstance(edited, bytes):
        path.write_bytes(edited)
    else:
        path.write_text(edited, encoding="utf-8")
    for name, text in case.files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return path


def expected_line(case: Case, folder: Path) -> int | None:
    if case.line_of is None:
        return None
    lines = (folder / case.named).read_bytes().decode("utf-8", "replace").splitlines()
    return next(number for number, line in enumerate(lines, 1) if case.line_of in line)


def short_run(path: Path) -> None:
    """Make the run as short as possible, in case a mistake slipped through validation."""
    text = path.read_bytes().decode("utf-8", "replace")
    path.write_text(re.sub(r"^  days: \d+", "  days: 10", text, count=1, flags=re.M), encoding="utf-8")


def assert_explained(output: str, case: Case, line: int | None) -> None:
    text = flat(output)
    assert "Traceback" not in output
    assert case.named in text
    if line is not None:
        assert re.search(rf"{re.escape(case.named)}:{line}(:\d+)?: ", text), f"line {line} not named:\n{output}"
    if case.path is not None:
        pattern = re.escape(case.path).replace(r"\[N\]", r"\[\d+\]")
        assert re.search(rf":\d+: {pattern}: ", text), f"field {case.path} not named:\n{output}"
    for words in case.says:
        assert flat(words) in text, f"{words!r} not said:\n{output}"


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_explained_at_its_line(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    write_case(case, tmp_path)
    result = runner.invoke(app, ["validate", FILE])
    assert result.exit_code == 2, result.output
    assert_explained(result.output, case, expected_line(case, tmp_path))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", RUN_TOO)
def test_bad_input_stops_a_run_before_it_starts(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    monkeypatch.chdir(tmp_path)
    path = write_case(case, tmp_path)
    short_run(path)
    result = runner.invoke(app, ["run", FILE, "-n", "1", "--no-report", "--no-attribution", "--quiet", "--serial",
                                 "--out", "out"])
    assert result.exit_code == 2, result.output
    assert_explained(result.output, case, expected_line(case, tmp_path))
    assert not (tmp_path / "out").exists()
    assert sorted(item.name for item in tmp_path.iterdir()) == [FILE]


@pytest.mark.parametrize(("given", "says"), [
    ("skc_2051.yaml", "the file does not exist"),
    ("scenarios", "this is a folder, not a scenario file"),
])
def test_a_wrong_file_name_is_explained(given: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    result = runner.invoke(app, ["validate", given])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{given}: {says}" in flat(result.output)


def test_line_100_is_printed_as_a_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = skc_text().splitlines()
    lines[99] = "budget: 1"
    (tmp_path / FILE).write_text("\n".join(lines[:100]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", FILE])
    assert result.exit_code == 2
    assert f"{FILE}:100:1: budget" in flat(result.output)  # Rich once turned ':100:' into an emoji


# --- scenarios that cannot run ----------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """The real command in a child process: its result, seconds taken and peak memory in MB."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", "from caresim.cli import app; app()", *args], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result, time.perf_counter() - started, peak_kb / 1024


def test_demand_far_beyond_capacity_stops_promptly_naming_the_service(tmp_path: Path) -> None:
    text = in_section("acute_beds", "capacity", "5")(skc_text())
    text = in_section("acute_beds", "initial_occupancy", "5")(text)
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    result, seconds, peak_mb = run_cli("run", FILE, "-n", "1", "--no-report", "--no-attribution", "--quiet",
                                       "--serial", "--out", "out", cwd=tmp_path)
    message = flat(result.stderr)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    sentence = (r"cannot run as written: baseline world, replication 0: the queue for \w+ passed \d+ patients "
                r"on day \d+: demand is beyond its capacity of \d+; add capacity or lower demand")
    assert re.search(sentence, message), message
    assert seconds < 120
    assert peak_mb < 2000
    folders = list((tmp_path / "out").glob("*/*"))
    assert [folder.suffix for folder in folders] == [".partial"]


def test_a_runaway_scenario_stops_at_max_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = swap(r"^(  seed: .*\n)", r"\g<1>  max_events: 1000\n")(skc_text())
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["run", FILE, "-n", "1", "--no-report", "--no-attribution", "--quiet", "--serial",
                                 "--out", "out"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "the scenario cannot run as written" in flat(result.output)
    assert "1,000" in flat(result.output) and "run.max_events" in flat(result.output)
    assert "raise run.max_events if intended" in flat(result.output)


# --- runs that fail or are interrupted -------------------------------------------------------------


def short_skc(folder: Path) -> Path:
    path = folder / FILE
    path.write_text(swap(r"^  days: \d+", "  days: 20")(skc_text()), encoding="utf-8")
    return path


def crash(error: BaseException) -> Callable[..., None]:
    def raise_it(*args: object, **kwargs: object) -> None:
        raise error

    return raise_it


def left_partial(out: Path) -> Path:
    folders = list(out.glob("*/*"))
    assert len(folders) == 1 and folders[0].name.endswith(".partial"), folders
    return folders[0]


@pytest.mark.parametrize(("target", "error", "exit_code", "status"), [
    ("caresim.workflows.run.execute", RuntimeError("worker lost"), 1, "failed"),
    ("caresim.workflows.run.execute", KeyboardInterrupt(), 130, "interrupted"),
    ("caresim.workflows.run.write_frame", OSError(28, "No space left on device"), 1, "failed"),
])
def test_a_crashed_run_is_left_partial_and_cannot_be_reported(
    target: str, error: BaseException, exit_code: int, status: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    short_skc(tmp_path)
    monkeypatch.setattr(target, crash(error))
    result = runner.invoke(app, ["run", FILE, "-n", "1", "--no-report", "--no-attribution", "--quiet", "--serial",
                                 "--out", "out"])
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    folder = left_partial(tmp_path / "out")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == status
    assert type(error).__name__ in manifest["error"]
    assert not (folder / "summary.csv").exists() or target.endswith("write_frame")
    monkeypatch.undo()
    for asked in (folder, folder.with_name(folder.name.removesuffix(".partial"))):
        report = runner.invoke(app, ["report", str(asked)])
        assert report.exit_code == 2, report.output
        assert "Traceback" not in report.output
        assert "did not complete" in flat(report.output)
        assert "re-run `caresim run`" in flat(report.output)
    assert not (folder / "report.html").exists()
