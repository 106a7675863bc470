"""Every measure of the short seeded SKC run is as stored, bit for bit (see tests/golden_master.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import golden_master
from golden_master import GOLDEN, differences


def test_golden_master_reproduced_bit_for_bit():
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    made = subprocess.run([sys.executable, golden_master.__file__, "--print"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-3000:]
    changed = differences(expected, json.loads(made.stdout))
    assert not changed, (f"{len(changed)} values differ from the golden master; if on purpose, run "
                         "`python tests/golden_master.py --regenerate` and say why in the commit:\n"
                         + "\n".join(changed[:40]))


def test_differences_names_each_changed_value():
    stored = {"baseline": {"0": {"measures": {"a": "1.0", "b": "2.0"}, "daily_totals": {}, "events": 5,
                                "conservation": {}}}}
    moved = {"baseline": {"0": {"measures": {"a": "1.0", "b": "2.5"}, "daily_totals": {}, "events": 6,
                               "conservation": {}}}}
    assert differences(stored, stored) == []
    assert differences(stored, moved) == ["baseline replication 0 events: 5 → 6",
                                          "baseline replication 0 b: 2.0 → 2.5"]
