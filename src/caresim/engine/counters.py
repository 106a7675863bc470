"""Every counter the engine writes, by name; the tally refuses any other name.

metrics.py reads these counters by the same strings. Counted only inside the measured window
(the tally is cleared when it opens).
"""

from __future__ import annotations

from typing import get_args

from caresim.measures import ENDED, MOVED, ROUTED
from caresim.scenario.fields import BAND_SUFFIX, WEEKDAY_NAMES
from caresim.scenario.schemes import DiversionEffect

# front door
CRISES = "crises"
GP_URGENT_CONTACTS = "gp_urgent_contacts"
GP_NO_APPOINTMENT = "gp_no_appointment"
OUT_OF_HOURS_CONTACTS = "out_of_hours_contacts"
AMBULANCE_INCIDENTS = "ambulance_incidents"
AMBULANCE_CONVEYANCES = "ambulance_conveyances"
MINOR_INJURY_ATTENDANCES = "minor_injury_attendances"
RAPID_RESPONSE_EPISODES = "rapid_response_episodes"
RAPID_RESPONSE_NO_ROOM = "rapid_response_no_room"
# A&E
AE_ATTENDANCES = "ae_attendances"
AE_ATTENDANCES_CONVEYED = "ae_attendances_conveyed"
AE_ATTENDANCES_65PLUS = "ae_attendances_65plus"
CARE_HOME_AE_ATTENDANCES = "care_home_ae_attendances"
AE_ADMITTED = "ae_admitted"
AE_ADMITTED_65PLUS = "ae_admitted_65plus"
AE_DEPARTURES = "ae_departures"
AE_WITHIN_4H = "ae_within_4h"
# admission and the acute stay
EMERGENCY_ADMISSIONS = "emergency_admissions"
EMERGENCY_ADMISSIONS_65PLUS = "emergency_admissions_65plus"
EMERGENCY_ADMISSIONS_VIA_AE = "emergency_admissions_via_ae"
AVOIDABLE_EMERGENCY_ADMISSIONS = "avoidable_emergency_admissions"
CARE_HOME_EMERGENCY_ADMISSIONS = "care_home_emergency_admissions"
READMISSIONS_30D = "readmissions_30d"
ACUTE_TURNED_AWAY = "acute_turned_away"
DEATHS_HOSPITAL = "deaths_hospital"
DISCHARGES_HOME_ALIVE = "discharges_home_alive"
ACUTE_STAYS_UNDER_1D = "acute_stays_under_1d"  # completed stays shorter than a day, warm start excluded
ACUTE_STAYS_UNDER_2D = "acute_stays_under_2d"  # … shorter than two days
# community services
STEP_UP_ADMISSIONS = "step_up_admissions"
STEP_DOWN_ADMISSIONS = "step_down_admissions"
DEATHS_INTERMEDIATE_CARE = "deaths_intermediate_care"
REABLEMENT_EPISODES = "reablement_episodes"
HOME_CARE_PACKAGES = "home_care_packages"
REHABILITATION_65PLUS_FOLLOWED = "rehabilitation_65plus_followed"  # BCF: 65+ discharged to rehabilitation …
STILL_HOME_91D_65PLUS = "still_home_91d_65plus"  # … and still at home 91 days later
# care homes
CARE_HOME_ADMISSIONS = "care_home_admissions"
CARE_HOME_ADMISSIONS_65PLUS = "care_home_admissions_65plus"
CARE_HOME_ADMISSIONS_65PLUS_COUNCIL_FUNDED = "care_home_admissions_65plus_council_funded"
DEATHS_CARE_HOME = "deaths_care_home"
# A refusal for lack of room that no measure reads yet: kept because without it a full step-up bed
# would turn patients away invisibly (a scheme that silently does nothing).
STEP_UP_NO_ROOM = "step_up_no_room"
# downstream services: care-home residents whose residence ends in a death in hospital or intermediate care
CARE_HOME_RESIDENT_DEATHS_IN_HOSPITAL = "care_home_resident_deaths_in_hospital"
# diversions
DIVERSIONS = "diversions"
FAILED_DIVERSIONS = "failed_diversions"
DIVERTED_OWN_STAY_DAYS = "diverted_own_stay_days"  # the acute stays the diverted patients had drawn
DIVERTED_THEN_ADMITTED = "diverted_then_admitted"  # diverted patients admitted after the diverted episode

# discharge rhythm: live acute discharges by when they left, and the discharge assessment queue
DISCHARGES_ON = tuple(f"discharges_{day}" for day in WEEKDAY_NAMES)  # by weekday, Monday first
DISCHARGES_BEFORE_NOON = "discharges_before_noon"
DISCHARGES_AT_NIGHT = "discharges_at_night"  # 23:00-06:00
ASSESSMENTS_COMPLETED = "assessments_completed"
ASSESSMENT_WAIT_DAYS = "assessment_wait_days_total"  # days from asking for an assessment to its start

# families
DIVERSION_POINTS: tuple[str, ...] = get_args(DiversionEffect.model_fields["at"].annotation)
DIVERSIONS_AT = {point: f"diversions_{point}" for point in DIVERSION_POINTS}
FAILED_DIVERSIONS_AT = {point: f"failed_diversions_{point}" for point in DIVERSION_POINTS}
EMERGENCY_ADMISSIONS_BY_BAND = tuple(f"emergency_admissions_{suffix}" for suffix in BAND_SUFFIX)  # by band index
ACUTE_STAYS_BY_BAND = tuple(f"acute_stays_{suffix}" for suffix in BAND_SUFFIX)  # completed, warm start excluded
ACUTE_STAY_DAYS_BY_BAND = tuple(f"acute_stay_days_{suffix}" for suffix in BAND_SUFFIX)
# Where patients go from an acute bed; acute_to_care_home_return (residents going back) is not read by
# a measure but completes the family, so the acute ward's outflows add up.
ACUTE_TO = {destination: f"acute_to_{destination}"
            for destination in ("home", "home_care", "reablement", "step_down", "care_home", "care_home_return")}

COUNTERS = frozenset(  # every string constant above, and the families
    [value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)]
    + [*DIVERSIONS_AT.values(), *FAILED_DIVERSIONS_AT.values(), *EMERGENCY_ADMISSIONS_BY_BAND,
       *ACUTE_STAYS_BY_BAND, *ACUTE_STAY_DAYS_BY_BAND, *ACUTE_TO.values(), *ROUTED.values(), *MOVED.values(),
       *ENDED.values(), *DISCHARGES_ON])
