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

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="versions")
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
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+")
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
