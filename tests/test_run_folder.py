"""Run folders are renamed only when a run completes, and say honestly when it did not."""

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from caresim.cli import app
from caresim.outputs.run_data import RunData
from caresim.run_folder import (
    SCHEMA_VERSION,
    IncompleteRunError,
    RunFolder,
    RunVersionError,
    new_run_id,
    read_complete_run,
)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_a_complete_run_is_renamed_and_readable(tmp_path: Path) -> None:
    with RunFolder(tmp_path, "winter", "run1") as run:
        assert run.path == tmp_path / "winter" / "run1.partial"
        assert manifest(run.path)["status"] == "running"
        run.update_manifest(replications=np.int64(20), seeds=np.array([1, 2]), mean=np.float32(0.5),
                            start=date(2024, 4, 1), scenario_file=Path("scenarios/winter.yaml"))
        (run.path / "summary.csv").write_text("measure,mean\n", encoding="utf-8")
    assert run.final_path == tmp_path / "winter" / "run1"
    assert not run.path.exists()
    assert (run.final_path / "summary.csv").exists()
    written = read_complete_run(run.final_path)
    assert written["status"] == "complete"
    assert written["scenario"] == "winter"
    assert written["run_id"] == "run1"
    assert written["replications"] == 20
    assert written["seeds"] == [1, 2]
    assert written["mean"] == 0.5
    assert written["start"] == "2024-04-01"
    assert written["scenario_file"] == "scenarios/winter.yaml"
    assert written["finished"] >= written["started"]
    assert sorted(path.name for path in run.final_path.iterdir()) == ["manifest.json", "summary.csv"]


def test_a_failed_run_stays_partial_and_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="queue overflow"), RunFolder(tmp_path, "winter", "run2") as run:
        raise RuntimeError("queue overflow")
    assert run.path.is_dir()
    assert not run.final_path.exists()
    written = manifest(run.path)
    assert written["status"] == "failed"
    assert written["error"] == "RuntimeError: queue overflow"
    with pytest.raises(IncompleteRunError, match=r"did not complete.*it failed: RuntimeError: queue overflow.*re-run"):
        read_complete_run(run.path)
    with pytest.raises(IncompleteRunError, match=r"only .*run2\.partial exists"):
        read_complete_run(run.final_path)


def test_an_interrupted_run_says_so(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), RunFolder(tmp_path, "winter", "run3") as run:
        raise KeyboardInterrupt
    written = manifest(run.path)
    assert written["status"] == "interrupted"
    assert written["error"] == "KeyboardInterrupt"
    with pytest.raises(IncompleteRunError, match="it was interrupted"):
        read_complete_run(run.path)


def test_folders_without_a_complete_manifest_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IncompleteRunError, match="there is no run folder"):
        read_complete_run(tmp_path / "nothing")
    bare = tmp_path / "bare"
    bare.mkdir()
    with pytest.raises(IncompleteRunError, match="has no readable manifest.json"):
        read_complete_run(bare)
    (bare / "manifest.json").write_text(json.dumps({"status": "running"}), encoding="utf-8")
    with pytest.raises(IncompleteRunError, match="is not complete .*still running"):
        read_complete_run(bare)


@pytest.mark.parametrize("name", ["../escape", "..", ".", "", "a/b", "a\\b", ".hidden", "x.partial", "a b"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="cannot be used as a folder name"):
        RunFolder(tmp_path, name, "run")
    with pytest.raises(ValueError, match="cannot be used as a folder name"):
        RunFolder(tmp_path, "winter", name)
    assert list(tmp_path.iterdir()) == []


def test_run_ids_are_timestamps_with_a_suffix(tmp_path: Path) -> None:
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", new_run_id())
    with RunFolder(tmp_path, "winter") as run:
        pass
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", run.run_id)
    assert run.final_path.is_dir()


def test_an_existing_run_is_not_overwritten(tmp_path: Path) -> None:
    with RunFolder(tmp_path, "winter", "same"):
        pass
    with pytest.raises(FileExistsError, match="already exists"), RunFolder(tmp_path, "winter", "same"):
        pass
    assert read_complete_run(tmp_path / "winter" / "same")["status"] == "complete"
    with pytest.raises(ValueError), RunFolder(tmp_path, "winter", "broken"):
        raise ValueError("bad")
    with pytest.raises(FileExistsError, match=r"broken\.partial"), RunFolder(tmp_path, "winter", "broken"):
        pass
    assert manifest(tmp_path / "winter" / "broken.partial")["error"] == "ValueError: bad"


def test_values_json_cannot_hold_fail_loudly(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot hold a object value"), RunFolder(tmp_path, "winter", "odd") as run:
        run.update_manifest(thing=object())
    assert manifest(run.path)["status"] == "failed"
    assert [path.name for path in run.path.iterdir()] == ["manifest.json"]


def rewrite_manifest(folder: Path, **fields: object) -> None:
    """The manifest of ``folder`` with ``fields`` replaced (None removes a field)."""
    content = {**manifest(folder), **fields}
    content = {key: value for key, value in content.items() if value is not None}
    (folder / "manifest.json").write_text(json.dumps(content), encoding="utf-8")


def test_a_run_records_the_schema_version_it_was_written_in(tmp_path: Path) -> None:
    with RunFolder(tmp_path, "winter", "run1") as run:
        assert manifest(run.path)["schema_version"] == SCHEMA_VERSION
    assert read_complete_run(run.final_path)["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(("version", "found"), [
    (None, r"no schema_version in its manifest.json \(it was written by an older caresim\)"),
    (SCHEMA_VERSION + 1, f"schema_version {SCHEMA_VERSION + 1} in its manifest.json"),
    (str(SCHEMA_VERSION), f"schema_version '{SCHEMA_VERSION}' in its manifest.json"),
])
def test_a_missing_or_unknown_schema_version_is_refused_with_the_fix(
        tmp_path: Path, version: object, found: str) -> None:
    with RunFolder(tmp_path, "winter", "run1") as run:
        pass
    rewrite_manifest(run.final_path, schema_version=version)
    expected = (rf"{found}, but caresim \S+ reads only run folders of schema version {SCHEMA_VERSION}; "
                r"re-run the scenario with this version")
    with pytest.raises(RunVersionError, match=expected):
        read_complete_run(run.final_path)
    with pytest.raises(RunVersionError, match=expected):
        RunData.load(run.final_path)


@pytest.mark.parametrize("command", ["report", "validation-doc"])
def test_the_cli_refuses_an_unknown_schema_version_with_exit_code_2(tmp_path: Path, command: str) -> None:
    with RunFolder(tmp_path, "winter", "run1") as run:
        pass
    rewrite_manifest(run.final_path, schema_version=None)
    result = CliRunner().invoke(app, [command, str(run.final_path)])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "has no schema_version" in said and "re-run the scenario with this version" in said
    assert "Traceback" not in result.output
