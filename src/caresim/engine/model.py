"""The connected network for one world and one replication.

Crisis → first contact (GP, out of hours, ambulance, A&E, minor injury unit) → rapid response or
A&E → acute bed → discharge pathway (home, reablement, home care, step-down bed, care home) with
delays as blocking after service → readmission; care homes with residents who have crises and die.

``Model`` wires the parts of the journey (one object each, in its own module) to one ``Kernel``
(clock, scheduling, bookkeeping, daily tick); each part reaches the others through the model.
"""

from __future__ import annotations

from caresim.engine.acute import AcuteStay
from caresim.engine.ae import EmergencyDepartment
from caresim.engine.arrivals import Arrivals
from caresim.engine.calendar import Calendar
from caresim.engine.care_homes import CareHomes
from caresim.engine.community import CommunityServices
from caresim.engine.demand import Candidates, care_home_candidates, community_candidates
from caresim.engine.discharge import Discharge
from caresim.engine.diversions import Diversions
from caresim.engine.effects import EffectKey, WorldEffects
from caresim.engine.errors import UnstableSystemError
from caresim.engine.front_door import FrontDoor
from caresim.engine.home_referrals import HomeReferrals
from caresim.engine.kernel import Kernel
from caresim.engine.record import replication_record
from caresim.engine.tally import ReplicationRecord
from caresim.engine.warm_start import warm_start
from caresim.scenario.schema import Scenario


class Model:
    """One world (a set of active schemes) in one replication.

    ``candidates`` (community, care home) are shared by every world of a replication, which pairs
    them; ``fixed_sizes`` pins effect sizes (sensitivity runs) instead of drawing them.
    """

    def __init__(self, scenario: Scenario, world: str, scheme_names: tuple[str, ...], replication: int,
                 candidates: tuple[Candidates, Candidates] | None = None,
                 fixed_sizes: dict[EffectKey, float] | None = None) -> None:
        self.scenario = scenario
        self.world = world
        self.replication = replication
        run = scenario.run
        calendar = Calendar(run.start, run.warm_up_days, run.days)
        effects = WorldEffects(scenario, scheme_names, replication, calendar, fixed_sizes)
        self.candidates = candidates or (community_candidates(scenario, calendar, replication),
                                         care_home_candidates(scenario, calendar, replication))
        self.kernel = Kernel(scenario, calendar, effects)
        self.arrivals = Arrivals(self)
        self.front_door = FrontDoor(self)
        self.diversions = Diversions(self)
        self.ae = EmergencyDepartment(self)
        self.acute = AcuteStay(self)
        self.discharge = Discharge(self)
        self.community = CommunityServices(self)
        self.care_homes = CareHomes(self)
        self.home_referrals = HomeReferrals(self)

    def run(self) -> ReplicationRecord:
        warm_start(self)
        community, care_home = self.candidates
        self.arrivals.start(community, 0)
        self.arrivals.start(care_home, 1)
        self.care_homes.start_community_placements()
        self.home_referrals.start()
        try:
            self.kernel.run()
        except UnstableSystemError as error:
            raise UnstableSystemError(f"{self.world} world, replication {self.replication}: {error}") from None
        return replication_record(self.kernel, self.world, self.replication)
