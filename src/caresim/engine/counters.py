"""Every counter the engine writes: an index into the tally's counts, declared here with its name.

The engine counts by index (``counts[c.CRISES] += 1``: a C double in a ``vec[float]``, at an index that is a
compiled constant, far cheaper on every event than a dict keyed by name or a list of Python floats); the
record hands the counts back by name, which metrics.py reads. Counted only inside the measured window (the
tally is cleared when it opens).
"""

from __future__ import annotations

from typing import Final, get_args

from caresim import measures
from caresim.scenario.fields import BAND_SUFFIX, WEEKDAY_NAMES
from caresim.scenario.schemes import DiversionEffect

NAMES: Final[list[str]] = []  # every counter's name, by its index


def _counter(name: str) -> int:
    """Declare a counter by name; its index in the tally's counts."""
    if name in NAMES:
        raise ValueError(f"counter {name!r} is declared twice")
    NAMES.append(name)
    return len(NAMES) - 1


# front door
CRISES: Final = _counter("crises")
GP_URGENT_CONTACTS: Final = _counter("gp_urgent_contacts")
GP_NO_APPOINTMENT: Final = _counter("gp_no_appointment")
OUT_OF_HOURS_CONTACTS: Final = _counter("out_of_hours_contacts")
AMBULANCE_INCIDENTS: Final = _counter("ambulance_incidents")
AMBULANCE_CONVEYANCES: Final = _counter("ambulance_conveyances")
MINOR_INJURY_ATTENDANCES: Final = _counter("minor_injury_attendances")
RAPID_RESPONSE_EPISODES: Final = _counter("rapid_response_episodes")
RAPID_RESPONSE_NO_ROOM: Final = _counter("rapid_response_no_room")
# A&E
AE_ATTENDANCES: Final = _counter("ae_attendances")
AE_ATTENDANCES_CONVEYED: Final = _counter("ae_attendances_conveyed")
AE_ATTENDANCES_65PLUS: Final = _counter("ae_attendances_65plus")
CARE_HOME_AE_ATTENDANCES: Final = _counter("care_home_ae_attendances")
AE_ADMITTED: Final = _counter("ae_admitted")
AE_ADMITTED_65PLUS: Final = _counter("ae_admitted_65plus")
AE_DEPARTURES: Final = _counter("ae_departures")
AE_WITHIN_4H: Final = _counter("ae_within_4h")
# admission and the acute stay
EMERGENCY_ADMISSIONS: Final = _counter("emergency_admissions")
EMERGENCY_ADMISSIONS_65PLUS: Final = _counter("emergency_admissions_65plus")
EMERGENCY_ADMISSIONS_VIA_AE: Final = _counter("emergency_admissions_via_ae")
AVOIDABLE_EMERGENCY_ADMISSIONS: Final = _counter("avoidable_emergency_admissions")
CARE_HOME_EMERGENCY_ADMISSIONS: Final = _counter("care_home_emergency_admissions")
READMISSIONS_30D: Final = _counter("readmissions_30d")
ACUTE_TURNED_AWAY: Final = _counter("acute_turned_away")
DEATHS_HOSPITAL: Final = _counter("deaths_hospital")
DISCHARGES_HOME_ALIVE: Final = _counter("discharges_home_alive")
ACUTE_STAYS_UNDER_1D: Final = _counter("acute_stays_under_1d")  # completed stays under a day, warm start excluded
ACUTE_STAYS_UNDER_2D: Final = _counter("acute_stays_under_2d")  # … shorter than two days
# community services
STEP_UP_ADMISSIONS: Final = _counter("step_up_admissions")
STEP_DOWN_ADMISSIONS: Final = _counter("step_down_admissions")
DEATHS_INTERMEDIATE_CARE: Final = _counter("deaths_intermediate_care")
REABLEMENT_EPISODES: Final = _counter("reablement_episodes")
HOME_CARE_PACKAGES: Final = _counter("home_care_packages")
# BCF: 65+ discharged to rehabilitation …
REHABILITATION_65PLUS_FOLLOWED: Final = _counter("rehabilitation_65plus_followed")
STILL_HOME_91D_65PLUS: Final = _counter("still_home_91d_65plus")  # … and still at home 91 days later
# care homes
CARE_HOME_ADMISSIONS: Final = _counter("care_home_admissions")
CARE_HOME_ADMISSIONS_65PLUS: Final = _counter("care_home_admissions_65plus")
CARE_HOME_ADMISSIONS_65PLUS_COUNCIL_FUNDED: Final = _counter("care_home_admissions_65plus_council_funded")
DEATHS_CARE_HOME: Final = _counter("deaths_care_home")
# A refusal for lack of room that no measure reads yet: kept because without it a full step-up bed
# would turn patients away invisibly (a scheme that silently does nothing).
STEP_UP_NO_ROOM: Final = _counter("step_up_no_room")
# downstream services: care-home residents whose residence ends in a death in hospital or intermediate care
CARE_HOME_RESIDENT_DEATHS_IN_HOSPITAL: Final = _counter("care_home_resident_deaths_in_hospital")
# diversions
DIVERSIONS: Final = _counter("diversions")
FAILED_DIVERSIONS: Final = _counter("failed_diversions")
DIVERTED_OWN_STAY_DAYS: Final = _counter("diverted_own_stay_days")  # the acute stays the diverted patients had drawn
DIVERTED_THEN_ADMITTED: Final = _counter("diverted_then_admitted")  # diverted, then admitted after that episode

# discharge rhythm: live acute discharges by when they left, and the discharge assessment queue
DISCHARGES_ON: Final = tuple(_counter(f"discharges_{day}") for day in WEEKDAY_NAMES)  # by weekday, Monday first
DISCHARGES_BEFORE_NOON: Final = _counter("discharges_before_noon")
DISCHARGES_AT_NIGHT: Final = _counter("discharges_at_night")  # 23:00-06:00
ASSESSMENTS_COMPLETED: Final = _counter("assessments_completed")
ASSESSMENT_WAIT_DAYS: Final = _counter("assessment_wait_days_total")  # days from asking for an assessment to its start

# families
DIVERSION_POINTS: tuple[str, ...] = get_args(DiversionEffect.model_fields["at"].annotation)
DIVERSIONS_AT: Final = {point: _counter(f"diversions_{point}") for point in DIVERSION_POINTS}
FAILED_DIVERSIONS_AT: Final = {point: _counter(f"failed_diversions_{point}") for point in DIVERSION_POINTS}
EMERGENCY_ADMISSIONS_BY_BAND: Final = tuple(_counter(f"emergency_admissions_{suffix}") for suffix in BAND_SUFFIX)
ACUTE_STAYS_BY_BAND: Final = tuple(_counter(f"acute_stays_{suffix}") for suffix in BAND_SUFFIX)  # warm start excluded
ACUTE_STAY_DAYS_BY_BAND: Final = tuple(_counter(f"acute_stay_days_{suffix}") for suffix in BAND_SUFFIX)
# Where patients go from an acute bed; acute_to_care_home_return (residents going back) is not read by
# a measure but completes the family, so the acute ward's outflows add up.
ACUTE_TO: Final = {destination: _counter(f"acute_to_{destination}")
                   for destination in ("home", "home_care", "reablement", "step_down", "care_home", "care_home_return")}


def _by_origin(flows: dict[tuple[str, str], str]) -> dict[str, dict[str, int]]:
    """A family of flows as origin → destination → counter: a count reads two dicts keyed by interned
    strings, with no (origin, destination) tuple built and hashed each time."""
    table: dict[str, dict[str, int]] = {}
    for (origin, to), name in flows.items():
        table.setdefault(origin, {})[to] = _counter(name)
    return table


# the flows between locations that measures.py names
ROUTED: Final = _by_origin(measures.ROUTED)
MOVED: Final = _by_origin(measures.MOVED)
ENDED: Final = _by_origin(measures.ENDED)
NO_FLOWS: Final[dict[str, int]] = {}  # for a location no flow of a family leaves
