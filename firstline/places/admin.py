"""Admin screens to build the hierarchy (superusers only; see firstline/urls.py)."""

from django.contrib import admin

from firstline.places.models import Building, Community, Compound, Entrance, Gate, Grid, Household, Street, Zone


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "street", "secretary_name", "code")
    list_filter = ("kind", "street")
    search_fields = ("name", "code")


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "commander_name", "code")
    list_filter = ("community",)


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "zone", "leader_name", "code")
    list_filter = ("community",)
    exclude = ("street",)
    search_fields = ("name", "code")


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ("name", "community", "is_key", "code")
    list_filter = ("community",)


class EntranceInline(admin.TabularInline):
    model = Entrance
    extra = 0


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("name", "grid", "compound", "floors", "leader_name", "code")
    list_filter = ("community",)
    exclude = ("street", "community")
    search_fields = ("name", "code")
    inlines = [EntranceInline]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ("__str__", "grid", "code")
    list_filter = ("community",)
    exclude = ("street", "community", "grid")
    search_fields = ("code", "room")
    list_select_related = ("building", "entrance", "grid")


@admin.register(Gate)
class GateAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "community", "compound", "code")
    list_filter = ("kind", "community")
    exclude = ("street",)
