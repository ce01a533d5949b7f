from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from firstline.codes import new_code
from firstline.scoping import ScopedQuerySet


class CodeField(models.CharField):
    """A short public code, unique per table, used in URLs instead of the id."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("default", new_code)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


class Street(models.Model):
    code = CodeField()
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    class Kind(models.TextChoices):
        URBAN = "urban", _("urban community")
        VILLAGE = "village", _("village")

    code = CodeField()
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.URBAN)
    secretary_name = models.CharField(_("secretary"), max_length=50, blank=True)
    # Bumped by every write that changes what the battle map shows (``bump_map_version``): the drawn
    # map is kept per version, so a map is drawn once per change, not once per look.
    map_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "id"}
    SCOPE_ANCESTORS = True

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")

    def __str__(self) -> str:
        return self.name

    @property
    def is_village(self) -> bool:
        return self.kind == self.Kind.VILLAGE


def bump_map_version(community_id: int | None) -> None:
    """Something the battle map of this community shows has changed: maps drawn before are stale."""
    if community_id is not None:
        Community.objects.filter(pk=community_id).update(map_version=models.F("map_version") + 1)


class Zone(models.Model):
    """战区: a part of a community with a named commander (R20)."""

    code = CodeField()
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    commander_name = models.CharField(_("commander"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """网格 in a city, 村民小组 in a village."""

    code = CodeField()
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids")
    zone = models.ForeignKey(Zone, on_delete=models.SET_NULL, null=True, blank=True, related_name="grids")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    leader_name = models.CharField(_("grid leader"), max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "id"}
    SCOPE_ANCESTORS = True

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.street_id = self.community.street_id
        super().save(*args, **kwargs)


class Compound(models.Model):
    """小区: a gated estate in an urban community."""

    code = CodeField()
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="compounds")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    is_key = models.BooleanField(_("key compound (passes required)"), default=False)

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    code = CodeField()
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="buildings")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="buildings")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=50, help_text=_("e.g. 3栋 or 张庄12号"))
    floors = models.PositiveSmallIntegerField(_("floors"), default=1)
    leader_name = models.CharField(_("building leader"), max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "id"}
    SCOPE_ANCESTORS = True

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["grid_id", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.community_id = self.grid.community_id
        self.street_id = self.grid.street_id
        super().save(*args, **kwargs)


class Entrance(models.Model):
    """单元: a stairwell of a building."""

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="entrances")
    number = models.PositiveSmallIntegerField(_("entrance number"))

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="entrance_unique_number")]
        ordering = ["building_id", "number"]

    def __str__(self) -> str:
        return _("Entrance %(number)s") % {"number": self.number}


class Household(models.Model):
    code = CodeField()
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="households")
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="households")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="households")
    entrance = models.ForeignKey(Entrance, on_delete=models.PROTECT, null=True, blank=True, related_name="households")
    room = models.CharField(
        _("room"), max_length=20, blank=True, help_text=_("room number, e.g. 501; empty for a village house")
    )
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["building", "entrance", "room"], name="household_unique_room"),
        ]
        indexes = [models.Index(fields=["community", "grid", "building"], name="household_scope_idx")]
        ordering = ["building_id", "entrance_id", "room"]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        parts = [self.building.name]
        if self.entrance_id and self.entrance is not None:
            parts.append(_("Entrance %(number)s") % {"number": self.entrance.number})
        parts.append(self.room)  # empty for a village house: the building is the house
        return " ".join(str(part) for part in parts if part)

    def save(self, *args, **kwargs):
        self.grid_id = self.building.grid_id
        self.community_id = self.building.community_id
        self.street_id = self.building.street_id
        super().save(*args, **kwargs)


class Gate(models.Model):
    """卡口: a checkpoint at a compound exit or on a village road."""

    class Kind(models.TextChoices):
        COMPOUND = "compound", _("compound gate")
        VILLAGE = "village", _("village gate")

    code = CodeField()
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="gates")
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True, related_name="gates")
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPOUND)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "gate": "id"}
    SCOPE_ANCESTORS = True

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.street_id = self.community.street_id
        super().save(*args, **kwargs)
