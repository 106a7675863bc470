"""People referred from their own homes, not in a crisis: to a care home or to reablement.

Each stream is a Poisson process over the run; a referral to reablement waits at home, behind everyone
waiting for reablement in a hospital or intermediate-care bed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from caresim.engine.demand import Row, draw_rows
from caresim.engine.kernel import Call
from caresim.engine.pathway import Pathway
from caresim.engine.patient import Patient
from caresim.engine.streams import stream
from caresim.scenario.fields import AGE_BANDS, AgeBand
from caresim.scenario.schema import Scenario

COMMUNITY_PLACEMENT = 2  # Patient.key[0] of people placed in a care home from home (0 and 1: crisis candidates)
REABLEMENT_REFERRAL = 3  # Patient.key[0] of people referred to reablement from home


def referrals(scenario: Scenario, name: str, replication: int, per_year: float, end: float,
              band_shares: Mapping[AgeBand, float], kind: int) -> list[tuple[float, Patient]]:
    """A stream's referrals over ``end`` days: when, and who (age band by ``band_shares``, their own draws)."""
    rng = stream(scenario.run.seed, name, replication)
    n = rng.poisson(per_year / 365.25 * end)
    times = np.sort(rng.random(n) * end)
    shares = np.array([band_shares.get(b, 0.0) for b in AGE_BANDS])
    bands = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
    rows = draw_rows(scenario, rng, bands)
    return [(float(times[i]), Patient((kind, i), Row(rows[i]), int(bands[i]), 0, -1, -1, -1, False, False))
            for i in range(n)]


class HomeReferrals(Pathway):
    """Referrals to reablement from people at home: each waits at home for a place, then has an episode."""

    def start(self) -> None:
        reablement = self.scenario.services.reablement
        if not reablement.enabled or reablement.referrals_from_home_per_year <= 0:
            return
        older: dict[AgeBand, float] = {band: share for band, share in self.scenario.population.age_shares.items()
                                       if band != "18-64"}
        for time, p in referrals(self.scenario, "reablement_referrals_from_home", self.model.replication,
                                 reablement.referrals_from_home_per_year, self.calendar.end, older,
                                 REABLEMENT_REFERRAL):
            self.kernel.after(time, self._referred, p)

    def _referred(self, event: Call[Patient]) -> None:
        p = event.value
        self.kernel.enter(p, "referred_from_home")
        self.services.reablement.request(p, self._granted, at_home=True)

    def _granted(self, p: Patient) -> None:
        self.model.community.start_reablement(p, from_hospital=False)
