"""Result folders that are honest about whether a run finished.

A run is written into `<root>/<scenario>/<run-id>.partial/` with a `manifest.json` saying
"running"; only a run that ends normally is marked "complete" and renamed to `<run-id>/`.
The manifest's `schema_version` says which layout of files and columns the folder holds; a reader
refuses a folder whose version it does not know rather than misread it.
"""

import json
import os
import re
import secrets
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pandas as pd

from caresim import __version__

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1  # raise when a file, column or manifest field of a run folder changes meaning
PARTIAL = ".partial"
# money.csv's kinds of row: items of spending, and the totals across payers
COST, CASH_RELEASING, NOT_CASH_RELEASING = "cost", "cash_releasing", "not_cash_releasing"
TOTAL_CASH, TOTAL_CAPACITY, NET_CASH, NET_ALL = "total_cash", "total_capacity", "net_cash", "net_all"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class IncompleteRunError(Exception):
    """A run folder that cannot be used because the run did not complete."""


class RunVersionError(Exception):
    """A complete run folder written in a layout (schema version) this caresim does not read."""


def new_run_id() -> str:
    """A run id from the UTC time and a short random suffix, e.g. `20240501-093000-3fa2`."""
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def checked_name(kind: str, name: str) -> str:
    """`name` if it is safe as one folder name, otherwise a ValueError saying why."""
    if (not _SAFE_NAME.fullmatch(name) or ".." in name or name.startswith(".")
            or name.endswith(PARTIAL)):
        raise ValueError(
            f"the {kind} {name!r} cannot be used as a folder name: use only letters, digits, "
            f"'_', '-' and '.', not starting with '.', without '..' and not ending in '{PARTIAL}'"
        )
    return name


class RunFolder:
    """Context manager for one run's folder: `.partial` while running, renamed when complete."""

    def __init__(self, root: Path, scenario_name: str, run_id: str | None = None) -> None:
        self.scenario_name = checked_name("scenario name", scenario_name)
        self.run_id = checked_name("run id", run_id if run_id is not None else new_run_id())
        self.final_path = Path(root) / self.scenario_name / self.run_id
        self.path = self.final_path.with_name(self.run_id + PARTIAL)
        self.manifest: dict[str, Any] = {}

    def __enter__(self) -> Self:
        for existing in (self.final_path, self.path):
            if existing.exists():
                raise FileExistsError(f"a run folder already exists at {existing}; "
                                      "choose another run id or delete that folder")
        self.path.mkdir(parents=True)
        self.update_manifest(
            status="running", schema_version=SCHEMA_VERSION, scenario=self.scenario_name, run_id=self.run_id,
            started=_now(),
        )
        return self

    def update_manifest(self, **fields: Any) -> None:
        """Add or replace manifest fields and save at once; nothing changes if they cannot be saved."""
        manifest = {**self.manifest, **fields}
        _write_json(self.path / MANIFEST, manifest)
        self.manifest = manifest

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self.update_manifest(status="complete", finished=_now())
            try:
                os.rename(self.path, self.final_path)
            except OSError as rename_error:
                self.update_manifest(status="failed", error=f"could not rename the folder: {rename_error}")
                raise
            return
        interrupted = isinstance(error, KeyboardInterrupt)
        self.update_manifest(
            status="interrupted" if interrupted else "failed",
            finished=_now(),
            error=f"{type(error).__name__}: {error}" if str(error) else type(error).__name__,
        )


def read_complete_run(path: Path) -> dict[str, Any]:
    """The manifest of a complete run, or IncompleteRunError saying what is wrong with the folder."""
    path = Path(path)
    rerun = "re-run `caresim run` to produce a complete result"
    partial = path if path.name.endswith(PARTIAL) else path.with_name(path.name + PARTIAL)
    if not path.is_dir():
        if partial.is_dir():
            raise IncompleteRunError(f"the run {path.name!r} did not complete: only {partial} exists "
                                     f"({_status_text(partial)}); {rerun}")
        raise IncompleteRunError(f"there is no run folder at {path}; {rerun}")
    if path == partial:
        raise IncompleteRunError(f"the run in {path} did not complete ({_status_text(path)}); {rerun}")
    manifest = _read_manifest(path)
    if manifest is None:
        raise IncompleteRunError(
            f"{path} has no readable {MANIFEST}, so it is not a complete caresim run; {rerun}"
        )
    if manifest.get("status") != "complete":
        raise IncompleteRunError(f"the run in {path} is not complete ({_status_text(path)}); {rerun}")
    check_schema_version(manifest, path)
    return manifest


def check_schema_version(manifest: dict[str, Any], path: Path) -> None:
    """Nothing if the manifest's `schema_version` is the one this caresim reads, else RunVersionError."""
    found = manifest.get("schema_version")
    if type(found) is int and found == SCHEMA_VERSION:
        return
    what = (f"no schema_version in its {MANIFEST} (it was written by an older caresim)" if found is None
            else f"schema_version {found!r} in its {MANIFEST}")
    raise RunVersionError(
        f"the run folder {path} has {what}, but caresim {__version__} reads only run folders of schema version "
        f"{SCHEMA_VERSION}; re-run the scenario with this version (`caresim run <scenario file>`) to get one "
        "it can read"
    )


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _status_text(folder: Path) -> str:
    manifest = _read_manifest(folder)
    if manifest is None:
        return f"it has no readable {MANIFEST}"
    status = manifest.get("status", "unknown")
    meaning = {
        "running": "it is still running, or stopped without recording why",
        "interrupted": "it was interrupted",
        "failed": "it failed",
    }.get(status, f"its status is {status!r}")
    return f"{meaning}: {manifest['error']}" if manifest.get("error") else meaning


def _write_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON so that readers see the old file or the new one, never half of one."""
    text = json.dumps(content, indent=2, default=_plain, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """JSON form of the values a manifest may hold besides the JSON types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"a manifest cannot hold a {type(value).__name__} value ({value!r})")


def write_frame(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    path = folder / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
