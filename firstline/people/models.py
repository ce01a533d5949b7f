from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from firstline.places.models import CodeField
from firstline.scoping import ScopedQuerySet

PERSONAL_SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

# The care flags (关爱标记) a resident may carry, in display order.
CARE_FLAGS = ("lives_alone_elderly", "unattended_child", "hardship", "disability", "chronic_illness", "pregnant")


class Status(models.TextChoices):
    """The four colours of the battle map (作战图)."""

    HOME_ISOLATION = "home_isolation", _("home isolation")
    OBSERVATION = "observation", _("observation")
    OUT = "out", _("out")
    HEALTHY = "healthy", _("healthy")


STATUS_COLOURS: dict[str, str] = {
    Status.HOME_ISOLATION: "red",
    Status.OBSERVATION: "yellow",
    Status.OUT: "blue",
    Status.HEALTHY: "green",
}


class Resident(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("resident ID card")
        PASSPORT = "passport", _("passport")
        HK_MACAO = "hk_macao", _("Hong Kong/Macao permit")
        TAIWAN = "taiwan", _("Taiwan permit")
        OTHER = "other", _("other document")

    class PersonType(models.TextChoices):
        REGISTERED = "registered", _("registered resident")
        MIGRANT = "migrant", _("migrant")
        OVERSEAS = "overseas", _("overseas")

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        TENANT = "tenant", _("tenant")
        OTHER = "other", _("other")

    code = CodeField()
    household = models.ForeignKey("places.Household", on_delete=models.PROTECT, related_name="residents")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+")

    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_type = models.CharField(_("ID type"), max_length=12, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number_sealed = models.BinaryField(null=True, blank=True, editable=False)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=40, blank=True, editable=False)
    phone_sealed = models.BinaryField(null=True, blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    relation_to_head = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, default=Relation.HEAD
    )
    person_type = models.CharField(
        _("person type"), max_length=12, choices=PersonType.choices, default=PersonType.REGISTERED
    )
    lives_alone_elderly = models.BooleanField(_("elderly living alone"), default=False)
    unattended_child = models.BooleanField(_("unattended child"), default=False)
    hardship = models.BooleanField(_("family in hardship"), default=False)
    disability = models.BooleanField(_("disability"), default=False)
    chronic_illness = models.BooleanField(_("chronic illness"), default=False)
    pregnant = models.BooleanField(_("pregnant"), default=False)
    domicile = models.CharField(_("domicile (household registration)"), max_length=200, blank=True)
    workplace = models.CharField(_("workplace or school"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.HEALTHY)
    version = models.PositiveIntegerField(default=1, editable=False)
    left_at = models.DateTimeField(_("moved out at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = PERSONAL_SCOPE

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        indexes = [
            models.Index(fields=["community", "grid", "building", "id"], name="resident_scope_idx"),
            models.Index(fields=["grid", "id"], name="resident_grid_idx"),
            models.Index(fields=["community", "status"], name="resident_status_idx"),
            models.Index(fields=["community", "name"], name="resident_name_idx"),
            # The dashboard's live counts by colour, read from this index alone (status.dashboard).
            models.Index(
                fields=["street", "community", "grid", "status"],
                condition=models.Q(left_at__isnull=True),
                name="resident_colour_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def status_colour(self) -> str:
        return STATUS_COLOURS.get(self.status, "green")

    @property
    def flags(self) -> list[str]:
        return [flag for flag in CARE_FLAGS if getattr(self, flag)]

    def age(self, today: date | None = None) -> int | None:
        if not self.birth_date:
            return None
        today = today or date.today()
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )


class ResidentVersion(models.Model):
    """One correction of a resident: what changed (sealed fields shown masked), who, when, why."""

    # Indexed by the unique (resident, version) constraint.
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["resident_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["resident", "version"], name="resident_version_unique")]


class Movement(models.Model):
    """来源与去向: where a resident came from (arrival) or is going (departure)."""

    class Direction(models.TextChoices):
        ARRIVAL = "arrival", _("arrival")
        DEPARTURE = "departure", _("departure")

    class Transport(models.TextChoices):
        TRAIN = "train", _("train")
        FLIGHT = "flight", _("flight")
        COACH = "coach", _("coach")
        CAR = "car", _("private car")
        SHIP = "ship", _("ship")
        OTHER = "other", _("other")

    code = CodeField()
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="movements")
    # Movements are read by resident (the scope filter rides along): the place columns need no
    # index of their own (one would cost every insert, 100,000 per import).
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", db_index=False)
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+", db_index=False)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    origin = models.CharField(_("came from"), max_length=200, blank=True)
    destination = models.CharField(_("going to"), max_length=200, blank=True)
    departed_on = models.DateField(_("departure date"), null=True, blank=True)
    arrived_on = models.DateField(_("arrival date"), null=True, blank=True)
    transport = models.CharField(_("transport"), max_length=10, choices=Transport.choices, blank=True)
    trip_number = models.CharField(_("train, flight or plate number"), max_length=30, blank=True)
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = PERSONAL_SCOPE

    class Meta:
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        ordering = ["-recorded_at"]


class ImportJob(models.Model):
    """One spreadsheet brought into a community's ledger (``people.importing``).

    The job keeps what an import needs to be understood later — who, which file, from
    which source and batch, how the headers were read, what happened to each row — and
    never a personal value: ID numbers and phones in its problems are masked. The
    uploaded file itself lives under ``DATA_DIR/imports/`` only until the job is applied
    or refused (or for 24 hours), and is never served back.
    """

    class Status(models.TextChoices):
        PARSING = "parsing", _("reading the file")
        PREVIEWED = "previewed", _("waiting for confirmation")
        APPLYING = "applying", _("importing")
        APPLIED = "applied", _("imported")
        FAILED = "failed", _("failed")
        REFUSED = "refused", _("not imported")

    code = CodeField()
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(_("file"), max_length=200)
    extension = models.CharField(max_length=8, editable=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    batch = models.CharField(_("batch"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PARSING)
    accept_valid = models.BooleanField(_("import the valid rows only"), default=False)
    failure = models.CharField(max_length=300, blank=True)  # English source text, translated when shown
    header_row = models.PositiveIntegerField(null=True, blank=True)
    columns = models.JSONField(default=list, blank=True)  # [{"header": ..., "field": ... or null}], no values
    preview = models.JSONField(default=list, blank=True)  # first rows, ID and phone masked; cleared when done
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    possible_duplicates = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)  # rows with at least one problem
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id"}

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.APPLIED, self.Status.FAILED, self.Status.REFUSED}

    @property
    def valid_rows(self) -> int:
        return self.rows - self.errors

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "possible_duplicates": self.possible_duplicates,
            "errors": self.errors,
        }


class ImportRow(models.Model):
    """What an applied import did with one row of the file, and the resident it matched or created.

    ``extra`` keeps the row's travel and health fields that are not resident fields
    (origin, arrival, trip, temperature, isolation…), so a list from above stays
    readable as it was sent; it never holds an ID number or phone.
    """

    class Outcome(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        UNCHANGED = "unchanged", _("unchanged")
        POSSIBLE_DUPLICATE = "possible_duplicate", _("possible duplicate")
        ERROR = "error", _("not imported")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="lines", db_index=False)  # see Meta
    row = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    resident = models.ForeignKey(Resident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        ordering = ["job_id", "row"]
        indexes = [models.Index(fields=["job", "outcome", "row"], name="importrow_outcome_idx")]


class ImportProblem(models.Model):
    """One problem of one row: the column as headed in the file, the value masked, a code and its message.

    ``messages`` holds the message in every language of the site (``{"en": …, "zh-hans": …}``),
    rendered when the problem was found: some messages carry a detail (why an ID
    number is invalid) that a code alone cannot give back. The code names the
    problem for programs.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    code = models.CharField(max_length=40)
    messages = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("import problem")
        verbose_name_plural = _("import problems")
        ordering = ["job_id", "row", "id"]

    def message(self, language: str | None = None) -> str:
        """The message in ``language`` (default: the active one), else in English."""
        from django.utils.translation import get_language

        language = (language or get_language() or "en").lower()
        return self.messages.get(language) or self.messages.get("en") or self.code
