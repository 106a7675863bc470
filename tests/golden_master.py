"""The golden master: a short seeded SKC run whose every measure must stay the same, bit for bit.

A refactor reproduces it exactly. A change that alters results on purpose regenerates it in the same
commit, with the reason in the commit message:

    python tests/golden_master.py --regenerate

numpy's AVX-512 kernels (a log, an exp, a sum) round a few results differently in the last bit from
its AVX2 ones, so the same commit gives other bits on a CPU with AVX-512. The golden master is made
and checked with them switched off (``WITHOUT_AVX512``, read as numpy is imported), the same bits on
any x86-64 machine: run as a script, this file starts itself again with that setting if it lacks it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from caresim.experiment.plan import make_plan
from caresim.experiment.replication import run_replication
from caresim.scenario.loading import load_scenario
from caresim.scenario.schema import Scenario

WITHOUT_AVX512 = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR "  # numpy ≥ 2.4's names, older ones
                                              "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL"}

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "skc_short.json"
SKC = HERE.parent / "scenarios" / "skc_2015.yaml"
REPLICATIONS = 2
WINDOW_DAYS = 60


def golden_scenario() -> Scenario:
    """SKC over a 60-day measured window after its usual warm-up."""
    scenario = load_scenario(SKC)
    data = scenario.model_dump(by_alias=True)
    data["run"]["days"] = WINDOW_DAYS
    return Scenario.model_validate(data)


def _avx512_on() -> bool:
    return not WITHOUT_AVX512.items() <= os.environ.items()


def golden_results() -> dict[str, dict[str, object]]:
    """World → replication → every measure, daily occupancy totals, the event count and the conservation audit."""
    if _avx512_on():
        raise RuntimeError("numpy's AVX-512 kernels are on: run `python tests/golden_master.py --print`")
    scenario = golden_scenario()
    plan = make_plan(scenario, REPLICATIONS, mixes={scenario.mix_name: scenario.mix_schemes})
    out: dict[str, dict[str, object]] = {}
    for replication in range(REPLICATIONS):
        for world in run_replication(plan, replication):
            out.setdefault(world.world, {})[str(replication)] = {
                "measures": {name: repr(float(value)) for name, value in sorted(world.measures.items())},
                "daily_totals": {name: repr(float(days.sum())) for name, days in sorted(world.daily.items())},
                "events": world.events,
                "conservation": dict(sorted(world.conservation.items())),
            }
    return out


def differences(expected: dict, actual: dict) -> list[str]:
    """Every place where ``actual`` differs from ``expected``, as readable lines."""
    lines = []
    for world in sorted(set(expected) | set(actual)):
        for replication in sorted(set(expected.get(world, {})) | set(actual.get(world, {}))):
            want = expected.get(world, {}).get(replication)
            got = actual.get(world, {}).get(replication)
            if want is None or got is None:
                lines.append(f"{world} replication {replication}: {'missing' if got is None else 'unexpected'}")
                continue
            for part in ("daily_totals", "events", "conservation"):
                if want[part] != got[part]:
                    lines.append(f"{world} replication {replication} {part}: {want[part]} → {got[part]}")
            for name in sorted(set(want["measures"]) | set(got["measures"])):
                a, b = want["measures"].get(name), got["measures"].get(name)
                if a != b:
                    lines.append(f"{world} replication {replication} {name}: {a} → {b}")
    return lines


if __name__ == "__main__":
    if _avx512_on():
        os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], {**os.environ, **WITHOUT_AVX512})
    if sys.argv[1:] == ["--print"]:
        print(json.dumps(golden_results()))
    elif sys.argv[1:] == ["--regenerate"]:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(golden_results(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN.relative_to(HERE.parent)}")
    else:
        sys.exit(__doc__)
