"""SIGTERM to a running `caresim run` stops its workers, leaves the run folder incomplete and exits non-zero."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from conftest import SKC, write


def test_sigterm_stops_every_worker_and_leaves_the_run_partial(tmp_path: Path) -> None:
    scenario = write(tmp_path, "long.yaml", f"""
        extends: {SKC.as_posix()}
        name: long
        run: {{days: 366, replications: 8}}
        """)
    command = [sys.executable, "-c", "from caresim.cli import app; app()", "run", str(scenario),
               "--out", str(tmp_path / "out"), "--no-attribution", "--workers", "2"]
    main = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process = psutil.Process(main.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while len(workers) < 2 and main.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = [child for child in process.children(recursive=True) if child.is_running()]
    assert len(workers) >= 2, f"the run did not start its worker processes: {main.poll()} {main.stderr.read()}"
    main.send_signal(signal.SIGTERM)
    _, stderr = main.communicate(timeout=60)
    assert main.returncode == 128 + signal.SIGTERM, stderr
    assert "SIGTERM" in stderr
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers left running after SIGTERM: {[p.pid for p in alive]}"
    (folder,) = (tmp_path / "out" / "long").iterdir()
    assert folder.name.endswith(".partial")
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["status"] == "interrupted"
