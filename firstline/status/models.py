"""The four colours and the facts that decide them.

A resident's colour (``Resident.status``) is a cached copy of what these facts say,
written only by ``status.actions`` together with a ``StatusChange`` row:

- away from the household (out, blue): an open referral that has left (in transit,
  arrived, or admitted/positive), an open central-isolation order, or a departure;
- else under an open home-isolation order: home isolation (red);
- else under an open observation: observation (yellow);
- else healthy (green).

Every personal row carries the ids of its places (one indexed filter for scope)
and a public ``code`` for URLs; none holds an ID number or phone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from firstline.people.models import PERSONAL_SCOPE, Status
from firstline.places.models import CodeField
from firstline.scoping import ScopedQuerySet


class Placed(models.Model):
    """The place columns every personal row of this app carries, copied from its resident."""

    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", db_index=False)
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+", db_index=False)

    objects = ScopedQuerySet.as_manager()
    SCOPE = PERSONAL_SCOPE

    class Meta:
        abstract = True

    def place_like(self, resident) -> None:
        self.street_id = resident.street_id
        self.community_id = resident.community_id
        self.grid_id = resident.grid_id
        self.building_id = resident.building_id


class Reason(models.TextChoices):
    """Why a colour changed (``StatusChange.reason``)."""

    ARRIVAL_FROM_RISK_AREA = "arrival_from_risk_area", _("arrived from a risk area")
    ISOLATION_ORDERED = "isolation_ordered", _("isolation ordered")
    ISOLATION_RELEASED = "isolation_released", _("released from isolation")
    FEVER = "fever", _("fever")
    SYMPTOMS = "symptoms", _("symptoms")
    OBSERVATION_ORDERED = "observation_ordered", _("observation ordered")
    OBSERVATION_CLEARED = "observation_cleared", _("normal check-ins completed")
    REFERRAL_LEFT = "referral_left", _("sent out on referral")
    REFERRAL_BACK = "referral_back", _("back from referral")
    DEPARTED = "departed", _("left the community")
    RETURNED = "returned", _("came back")
    CORRECTED = "corrected", _("corrected by a worker")


class StatusChange(Placed):
    """One change of a resident's colour: append-only, the history of the battle map."""

    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(max_length=40, blank=True, help_text="what caused it, e.g. referral:AB12CD")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["resident_id", "changed_at", "id"]
        indexes = [models.Index(fields=["community", "changed_at"], name="statuschange_day_idx")]


class RiskArea(models.Model):
    """疫区: an area whose arrivals are isolated, kept by the street (or the deployment when street is empty)."""

    code = CodeField()
    street = models.ForeignKey(
        "places.Street", on_delete=models.PROTECT, null=True, blank=True, related_name="risk_areas"
    )
    name = models.CharField(_("area"), max_length=100, help_text=_("e.g. 湖北省武汉市"))
    keywords = models.CharField(
        _("also matches"),
        max_length=200,
        blank=True,
        help_text=_("other ways people write it, separated by commas, e.g. 武汉,武汉市"),
    )
    active_from = models.DateField(_("from"))
    active_until = models.DateField(_("until"), null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("risk area")
        verbose_name_plural = _("risk areas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def terms(self) -> list[str]:
        words = [self.name, *(self.keywords.replace("，", ",").split(","))]
        return [word.strip() for word in words if word.strip()]


class CommunityRules(models.Model):
    """A community's own screening rules; an empty field keeps the deployment's default (settings.SCREENING)."""

    community = models.OneToOneField("places.Community", on_delete=models.CASCADE, related_name="rules")
    fever_threshold = models.DecimalField(_("fever from (°C)"), max_digits=3, decimal_places=1, null=True, blank=True)
    isolation_days = models.PositiveSmallIntegerField(_("home isolation days"), null=True, blank=True)
    observation_checkins = models.PositiveSmallIntegerField(
        _("normal check-ins that end observation"), null=True, blank=True
    )
    referral_stale_hours = models.PositiveSmallIntegerField(
        _("hours before a silent referral becomes a task"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("screening rules")
        verbose_name_plural = _("screening rules")


class IsolationOrder(Placed):
    """A home or central isolation order: start, planned end, extensions, release by a worker."""

    class Kind(models.TextChoices):
        HOME = "home", _("home isolation")
        CENTRAL = "central", _("central isolation")

    code = CodeField()
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="isolation_orders")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.HOME)
    site = models.CharField(_("isolation site"), max_length=100, blank=True, help_text=_("for central isolation"))
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(max_length=40, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    planned_end = models.DateField(_("planned end"))
    extensions = models.JSONField(default=list, blank=True)  # [{"from", "to", "reason", "by", "at"}]
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_note = models.CharField(_("release note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("isolation order")
        verbose_name_plural = _("isolation orders")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "released_at"], name="isolation_resident_idx"),
            models.Index(fields=["community", "released_at", "planned_end"], name="isolation_open_idx"),
            # The isolations that started today, on the dashboard.
            models.Index(fields=["community", "starts_at"], name="isolation_start_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.released_at is None


class Observation(Placed):
    """医学观察: open until enough consecutive normal check-ins (or closed by a worker)."""

    code = CodeField()
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="observations")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    source = models.CharField(max_length=40, blank=True)
    opened_at = models.DateTimeField(_("opened"))
    normal_streak = models.PositiveSmallIntegerField(_("normal check-ins in a row"), default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "closed_at"], name="observation_resident_idx"),
            models.Index(fields=["community", "closed_at"], name="observation_open_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Referral(Placed):
    """转诊: a person sent out, followed until the outcome closes the loop (R9)."""

    class Destination(models.TextChoices):
        FEVER_CLINIC = "fever_clinic", _("fever clinic")
        TESTING = "testing", _("testing")
        DESIGNATED_HOSPITAL = "designated_hospital", _("designated hospital")
        CENTRAL_ISOLATION = "central_isolation", _("central isolation")

    class State(models.TextChoices):
        REQUESTED = "requested", _("requested")
        IN_TRANSIT = "in_transit", _("in transit")
        ARRIVED = "arrived", _("arrived")
        OUTCOME = "outcome", _("outcome recorded")

    class Outcome(models.TextChoices):
        NEGATIVE = "negative", _("negative")
        POSITIVE = "positive", _("positive")
        ADMITTED = "admitted", _("admitted")
        RETURNED_HOME = "returned_home", _("returned home")

    # Outcomes after which the person is home again and the referral is closed.
    HOME_OUTCOMES = (Outcome.NEGATIVE, Outcome.RETURNED_HOME)
    # States in which the person has left the household.
    AWAY_STATES = (State.IN_TRANSIT, State.ARRIVED, State.OUTCOME)

    code = CodeField()
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="referrals")
    destination = models.CharField(_("to"), max_length=20, choices=Destination.choices)
    facility = models.CharField(_("hospital or site"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(max_length=40, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.REQUESTED)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    in_transit_at = models.DateTimeField(_("left"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last update"))
    history = models.JSONField(default=list, blank=True)  # [{"state", "outcome", "at", "by", "note"}]

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "closed_at"], name="referral_resident_idx"),
            models.Index(fields=["community", "closed_at", "updated_at"], name="referral_open_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_away(self) -> bool:
        return self.is_open and self.state in self.AWAY_STATES


class Symptom(models.TextChoices):
    COUGH = "cough", _("cough")
    FATIGUE = "fatigue", _("fatigue")
    SORE_THROAT = "sore_throat", _("sore throat")
    SHORT_OF_BREATH = "short_of_breath", _("short of breath")
    DIARRHOEA = "diarrhoea", _("diarrhoea")
    LOSS_OF_SMELL = "loss_of_smell", _("loss of taste or smell")
    MUSCLE_ACHE = "muscle_ache", _("muscle ache")


class CheckIn(Placed):
    """健康打卡: one temperature and symptom report, sent by the resident or taken by a worker.

    ``client_id`` is the device's UUID for this report: sending it again returns the
    first result; sending it with another payload is a conflict (kept, answered 409).
    """

    class Source(models.TextChoices):
        SELF = "self", _("the resident")
        WORKER = "worker", _("a worker")
        VISIT = "visit", _("a home visit")
        GATE = "gate", _("a gate")

    code = CodeField()
    client_id = models.UUIDField(unique=True)
    payload_hash = models.CharField(max_length=64)
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="checkins", db_index=False)
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    is_fever = models.BooleanField(default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(_("reported by"), max_length=8, choices=Source.choices)
    taken_at = models.DateTimeField(_("taken at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["resident", "taken_at"], name="checkin_resident_idx"),
            models.Index(fields=["community", "taken_at"], name="checkin_day_idx"),
            # Today's fevers on the dashboard, without reading every check-in of the day.
            models.Index(fields=["community", "taken_at"], condition=models.Q(is_fever=True), name="checkin_fever_idx"),
        ]

    @property
    def is_normal(self) -> bool:
        return not self.is_fever and not self.symptoms


class CheckInConflict(models.Model):
    """A second report under a used ``client_id`` with a different payload: kept for a worker to look at."""

    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="conflicts")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField()  # temperature, symptoms, taken_at, resident code: no ID number or phone
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("check-in conflict")
        verbose_name_plural = _("check-in conflicts")


class Declaration(models.Model):
    """A self-declaration sent from the QR code at a gate, without login, waiting for a worker.

    The ID number and phone are sealed like the ledger's; a worker matches the
    declaration to a household (an existing resident is found by the ID number's
    blind index) and accepts it, which registers the arrival and applies the rules.
    """

    class State(models.TextChoices):
        NEW = "new", _("waiting")
        ACCEPTED = "accepted", _("accepted")
        DISMISSED = "dismissed", _("dismissed")

    code = CodeField()
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    gate = models.ForeignKey("places.Gate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    id_number_sealed = models.BinaryField(null=True, blank=True, editable=False)
    id_number_index = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=40, blank=True, editable=False)
    phone_sealed = models.BinaryField(null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    address = models.CharField(_("where you stay here"), max_length=100)
    origin = models.CharField(_("came from"), max_length=200)
    departure_date = models.DateField(_("departure date"), null=True, blank=True)
    arrival_date = models.DateField(_("arrival date"))
    transport = models.CharField(_("transport"), max_length=10, blank=True)
    trip_no = models.CharField(_("train, flight or plate number"), max_length=30, blank=True)
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    from_risk_area = models.BooleanField(default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.NEW)
    resident = models.ForeignKey("people.Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id"}

    class Meta:
        verbose_name = _("self-declaration")
        verbose_name_plural = _("self-declarations")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "state", "created_at"], name="declaration_queue_idx")]


class DailyCount(models.Model):
    """Residents of one grid in each colour at the end of one day: the dashboard's trend, kept nightly."""

    day = models.DateField()
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", db_index=False)
    home_isolation = models.PositiveIntegerField(default=0)
    observation = models.PositiveIntegerField(default=0)
    out = models.PositiveIntegerField(default=0)
    healthy = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        constraints = [models.UniqueConstraint(fields=["grid", "day"], name="dailycount_unique")]
        indexes = [
            models.Index(fields=["community", "day"], name="dailycount_community_idx"),
            models.Index(fields=["street", "day"], name="dailycount_street_idx"),
        ]
