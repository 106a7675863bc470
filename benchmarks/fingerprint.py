"""A digest of everything one replication of every world produces, to check that an optimisation
changes no result: run before and after an edit and compare the output.

    python -m benchmarks.fingerprint [scenarios/skc_2015.yaml] [--replication 0]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from caresim.experiment.plan import make_plan
from caresim.experiment.replication import WorldResult, run_replication
from caresim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def _feed(digest: hashlib._Hash, value: object) -> None:
    """Hash a nested structure exactly: floats by their bits, arrays by their bytes."""
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            _feed(digest, item)
    elif isinstance(value, np.ndarray):
        digest.update(np.ascontiguousarray(value, dtype=float).tobytes())
    elif isinstance(value, float):
        digest.update(value.hex().encode())
    else:
        digest.update(repr(value).encode())


def fingerprint(world: WorldResult) -> str:
    digest = hashlib.sha256()
    for part in (world.measures, world.daily, world.daily_capacity, world.monthly_delays, world.sampled,
                 world.little, world.conservation, world.events):
        _feed(digest, part)
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", type=Path, default=ROOT / "scenarios" / "skc_2015.yaml")
    parser.add_argument("--replication", type=int, default=0)
    args = parser.parse_args()
    plan = make_plan(load_scenario(args.scenario), 1, attribution=True)
    for world in run_replication(plan, args.replication):
        print(f"{fingerprint(world)}  {world.world}  events={world.events}")


if __name__ == "__main__":
    main()
