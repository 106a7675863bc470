"""One person's episode of care, and the named columns of the draws they carry from arrival."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from caresim.engine.demand import COLUMN, Row

if TYPE_CHECKING:
    from caresim.engine.services import Pool

# Positions in ``Patient.row`` (demand.COLUMN), as Final ints (static in the compiled engine, where a plain
# module global is a dict lookup): the event loop reads them on every step.
KEEP: Final = COLUMN["keep"]
CONTACT: Final = COLUMN["contact"]
GP: Final = COLUMN["gp"]
OUT_OF_HOURS: Final = COLUMN["out_of_hours"]
AMBULANCE: Final = COLUMN["ambulance"]
MINOR_INJURY: Final = COLUMN["minor_injury"]
AE_ADMIT: Final = COLUMN["ae_admit"]
RAPID_RESPONSE: Final = COLUMN["rapid_response"]
DIVERT: Final = COLUMN["divert"]
THEN_ADMITTED: Final = COLUMN["then_admitted"]
PATHWAY: Final = COLUMN["pathway"]
P1_ROUTE: Final = COLUMN["p1_route"]
ASSESSMENT: Final = COLUMN["assessment"]
PATIENT_CHOICE: Final = COLUMN["patient_choice"]
READMIT: Final = COLUMN["readmit"]
INTERMEDIATE_CARE: Final = COLUMN["intermediate_care"]
HOME_CARE_AFTER_REABLEMENT: Final = COLUMN["home_care_after_reablement"]
AT_HOME_91: Final = COLUMN["at_home_91"]
CARE_HOME_TYPE: Final = COLUMN["care_home_type"]
COUNCIL_FUNDED: Final = COLUMN["council_funded"]
RESIDENT: Final = COLUMN["resident"]
ACUTE_STAY: Final = COLUMN["acute_stay"]
AE_DISCHARGED: Final = COLUMN["ae_discharged"]
AE_ADMITTED: Final = COLUMN["ae_admitted"]
RAPID_RESPONSE_EPISODE: Final = COLUMN["rapid_response_episode"]
INTERMEDIATE_CARE_STAY: Final = COLUMN["intermediate_care_stay"]
REABLEMENT: Final = COLUMN["reablement"]
ASSESSMENT_TIME: Final = COLUMN["assessment_time"]
PATIENT_CHOICE_TIME: Final = COLUMN["patient_choice_time"]
READMIT_TIME: Final = COLUMN["readmit_time"]
RESIDENCE_YEARS: Final = COLUMN["residence_years"]
LEAVE_HAZARD: Final = COLUMN["leave_hazard"]
ACUITY: Final = COLUMN["acuity"]
ENROLLED: Final = COLUMN["enrolled"]

HomeKind = Literal["residential", "nursing"]

# What a person has received (Patient.received, one bit each), for effects on the people a scheme treats.
# Enrolment in a prevention programme is not a bit: it is asked of effects.Enrolment at the time it matters.
RECEIVED_BIT: Final = {name: 1 << i for i, name in enumerate(
    ("rapid_response", "step_up", "step_down", "reablement", "admission_avoided", "supported_care_home"))}
SUPPORTED_CARE_HOME: Final = RECEIVED_BIT["supported_care_home"]  # every care-home resident has it


class Patient:
    """One person's episode of care; ``row`` holds every draw they will need, fixed on arrival.

    ``key`` identifies the person across episodes: (source, index, …episode keys); ``depth`` counts
    readmissions. Attributes below the constructor's are set as the journey reaches them.
    """

    __slots__ = ("key", "row", "band", "residence", "tier", "locality", "crisis_type", "avoidable",
                 "gp_manageable", "depth", "location", "via", "ae_arrival", "admitted_ae", "pathway",
                 "destination", "delay_reason", "delay_setting", "delay_start", "resident", "home_kind",
                 "away", "exit_due", "slot", "resident_index", "diverted_by",
                 "reablement_from_hospital", "readmission", "assessment_wait", "received", "enrolment",
                 "fit_at", "waited")

    location: str
    via: str | None  # how they reached the acute ward ("ae", "gp", "warm_start", …)
    ae_arrival: float  # days, when they arrived in A&E
    admitted_ae: bool
    pathway: str | None  # discharge pathway: P0…P3 or death
    destination: str | None  # where they go next: home, reablement, step_down, step_up, care_home, …
    delay_reason: int | None  # index in DELAY_REASONS while delayed, else None
    delay_setting: int  # tally.SETTINGS index of the bed they are delayed in
    delay_start: float
    resident: Patient | None  # the care-home resident this episode belongs to, while away from the home
    home_kind: HomeKind | None
    away: bool  # a resident in hospital or another service
    exit_due: bool  # a resident whose residence ended while away
    slot: Pool | None  # the intermediate-care bed held while waiting downstream
    resident_index: int  # position in the care homes' list of residents
    diverted_by: str | None  # after rapid response: "admit" (then admitted) or "route"
    reablement_from_hospital: bool
    readmission: bool
    assessment_wait: float  # days from asking for a discharge assessment to its start
    received: int  # RECEIVED_BIT of every service this person has received, carried across their episodes
    enrolment: float  # the person's own draw for enrolment in prevention programmes (effects.Enrolment)
    fit_at: float  # days, when last medically fit in an acute bed (0 for those fit at the start)
    waited: float  # days from medically fit to the start of reablement or a step-down bed

    def __init__(self, key: tuple[int, ...], row: Row, band: int, residence: int, tier: int,
                 locality: int, crisis_type: int, avoidable: bool, gp_manageable: bool, depth: int = 0) -> None:
        self.key = key
        self.row = row
        self.band = band
        self.residence = residence
        self.tier = tier
        self.locality = locality
        self.crisis_type = crisis_type
        self.avoidable = avoidable
        self.gp_manageable = gp_manageable
        self.depth = depth
        self.location = "new"
        self.via = self.pathway = self.destination = self.home_kind = None
        self.delay_reason = None
        self.slot = None
        self.resident = None
        self.away = False
        self.exit_due = False
        self.diverted_by = None
        self.reablement_from_hospital = False
        self.readmission = False
        self.received = SUPPORTED_CARE_HOME if residence else 0
        self.enrolment = row[ENROLLED]
        self.fit_at = self.waited = 0.0

    def receive(self, service: str) -> None:
        """Record that this person received ``service`` (a key of RECEIVED_BIT)."""
        self.received |= RECEIVED_BIT[service]

    def carry_over(self, previous: Patient) -> None:
        """This episode is the same person's as ``previous``: keep what they received and their enrolment."""
        self.received |= previous.received
        self.enrolment = previous.enrolment
