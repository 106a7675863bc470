"""What a finished run hands back: its record, and the conservation audit of every patient and place."""

from __future__ import annotations

from collections import Counter

from caresim.engine.kernel import Kernel
from caresim.engine.tally import ReplicationRecord, ServiceRecord


def replication_record(kernel: Kernel, world: str, replication: int) -> ReplicationRecord:
    """The record of the measured window; delays still running at the end count up to now."""
    now = kernel.now
    tally = kernel.tally
    for p in kernel.live:
        if p.delay_reason is not None:
            tally.delay(p.delay_reason, p.delay_setting, p.delay_start, now)
    services = {name: ServiceRecord(name, pool.capacity, pool.time_average(), pool.arrivals, pool.stays,
                                    pool.stay_total / pool.stays if pool.stays else 0.0, now - pool.window_start)
                for name, pool in kernel.services.pools.items()}
    window = slice(int(kernel.window), int(kernel.calendar.end))
    return ReplicationRecord(
        world=world, replication=replication, seed=kernel.scenario.run.seed,
        counts=tally.by_name(), services=services, delayed=tally.delayed.copy(),
        daily={k: v[window] for k, v in kernel.daily.items()},
        daily_capacity={k: v[window] for k, v in kernel.daily_capacity.items()},
        sampled={k: (n, total, squares) for k, (n, total, squares) in tally.sampled.items()},
        conservation=conservation(kernel), events=kernel.events,
        realised={key: (acted, without, with_) for key, (acted, without, with_) in kernel.effects.realised.items()},
        waits={name: (w.granted, float(w.total_days), int(w.waited)) for name, w in kernel.services.waits.items()},
        years=[*kernel.year_marks, kernel.year_mark()], delayed_by_year=tally.delayed_by_year.copy(),
    )


def conservation(kernel: Kernel) -> dict[str, int]:
    """Every patient who entered is in exactly one place or has left; every place is held by a live patient."""
    live, pools = kernel.live, kernel.services
    located = Counter(p.location for p in live)
    ended = sum(kernel.ended.values())
    violations = kernel.created - ended - len(live)
    for pool in pools.pools.values():
        violations += abs(pool.occupied - len(pool.entered))
        violations += sum(1 for holder in pool.entered if holder not in live)
    violations += abs(located["acute"] - len(pools.acute.entered))
    violations += abs(located["ae"] - len(pools.ae.entered))
    violations += abs(located["rapid_response"] - len(pools.rapid_response.entered))
    return {"created": kernel.created, "ended": ended, "in_system": len(live),
            "violations": violations, **{f"in_{k}": v for k, v in located.items()},
            **{f"ended_{k}": v for k, v in kernel.ended.items()}}
