"""The warm start: beds and caseloads occupied at time 0, so the run need not fill them from empty.

Remaining stays are drawn length-biased (a bed occupied at a random moment holds a longer stay than
average), then cut uniformly (the moment falls anywhere in that stay).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from caresim.engine.demand import community_segments, draw_rows
from caresim.engine.patient import HomeKind, Patient
from caresim.engine.services import Pool
from caresim.engine.streams import stream
from caresim.scenario.fields import AGE_BANDS

if TYPE_CHECKING:
    from caresim.engine.model import Model

SEEDED, NURSING_RESIDENT, RESIDENTIAL_RESIDENT = 3, 4, 5  # Patient.key[0] of warm-start patients


def warm_start(model: Model) -> None:
    """Seed the acute ward, intermediate care, reablement and care homes with patients part-way through."""
    s = model.scenario
    kernel, services = model.kernel, model.kernel.services
    rng = stream(s.run.seed, "warm_start", model.replication)
    configured = s.services
    _, bands, _, rates = community_segments(s)
    band_rates = np.bincount(bands, weights=rates, minlength=len(AGE_BANDS))
    mix = band_rates / band_rates.sum() if band_rates.sum() > 0 else np.full(len(AGE_BANDS), 0.25)

    def seeded(n: int, first_index: int) -> list[Patient]:
        chosen = rng.choice(len(AGE_BANDS), size=n, p=mix)
        rows = draw_rows(s, rng, chosen)
        return [Patient((SEEDED, first_index + i), rows[i].tolist(), int(chosen[i]), 0, 0, 0, 0, False, False)
                for i in range(n)]

    beds = configured.acute_beds
    for p in seeded(min(beds.initial_occupancy, int(min(services.acute.capacity, 1e9))), 0):
        kernel.enter(p, "acute")
        services.acute.try_admit(p)
        p.via = "warm_start"
        dist = beds.length_of_stay[AGE_BANDS[p.band]]
        kernel.after(float(rng.random() * dist.length_biased(rng, 1)[0]), model.discharge.medically_fit, p)
    ic = configured.intermediate_care_beds
    if ic.enabled:
        for k, p in enumerate(seeded(ic.initial_occupancy, 100_000)):
            step_up = k % 2 == 1 and services.step_up is not services.step_down
            pool = services.step_up if step_up else services.step_down
            if not pool.try_admit(p):
                continue
            kernel.enter(p, "intermediate_care")
            p.destination = "step_up" if step_up else "step_down"
            stay = float(rng.random() * ic.length_of_stay.length_biased(rng, 1)[0])
            kernel.after(stay, model.community.intermediate_care_done, p)
    reablement = configured.reablement
    if reablement.enabled:
        for p in seeded(reablement.initial_occupancy, 200_000):
            if not services.reablement.try_admit(p):
                continue
            kernel.enter(p, "reablement")
            p.reablement_from_hospital = False
            kernel.after(float(rng.random() * reablement.duration.length_biased(rng, 1)[0]),
                         model.community.reablement_done, p)
    homes = configured.care_homes
    if homes.enabled:
        shares = np.array([homes.resident_age_shares.get(b, 0.0) for b in AGE_BANDS])
        homes_by_kind: tuple[tuple[HomeKind, Pool], ...] = (("residential", services.residential),
                                                            ("nursing", services.nursing))
        for kind, pool in homes_by_kind:
            n = (int(round(min(pool.capacity, 1e7) * homes.initial_occupancy_share))
                 if math.isfinite(pool.capacity) else 0)
            chosen = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
            rows = draw_rows(s, rng, chosen)
            for i in range(n):
                source = NURSING_RESIDENT if kind == "nursing" else RESIDENTIAL_RESIDENT
                p = Patient((source, i), rows[i].tolist(), int(chosen[i]), 1, -1, -1, -1, False, False)
                p.home_kind = kind
                pool.try_admit(p)
                kernel.enter(p, "care_home")
                model.care_homes.settle(p)
