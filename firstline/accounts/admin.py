from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from firstline.accounts.models import Membership, User
from firstline.audit.log import record


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("role", "level", "street", "community", "grid", "building", "gate", "starts_at", "ends_at", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "is_active", "is_superuser", "last_login")
    fieldsets = ((None, {"fields": ("username", "password", "full_name", "is_active", "is_superuser")}),)
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "full_name", "password1", "password2")}),)
    search_fields = ("username", "full_name")
    inlines = [MembershipInline]


def most_specific_place(values):
    for level in ("gate", "building", "grid", "community", "street"):
        if values.get(level) is not None:
            return values[level]
    return None


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "role", "street", "community", "grid", "building", "gate", "starts_at", "ends_at", "reason")

    def clean(self):
        data = super().clean()
        place = (
            data.get("gate") or data.get("building") or data.get("grid") or data.get("community") or data.get("street")
        )
        if place is None:
            raise forms.ValidationError(_("Choose the place this role is bound to."))
        try:
            self.instance.role = data.get("role", "")
            self.instance.bind(place)
        except ValueError:
            raise forms.ValidationError(_("This role cannot be given at this level.")) from None
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Superusers set up the first administrators here; every save is audited as a grant."""

    form = MembershipForm

    list_display = ("user", "role", "level", "community", "grid", "starts_at", "ends_at", "revoked_at")
    list_filter = ("role", "level")
    fields = ("user", "role", "street", "community", "grid", "building", "gate", "starts_at", "ends_at", "reason")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change) -> None:
        # The form wrote the raw choices back; bind again so the ancestors' ids are filled in.
        obj.bind(
            most_specific_place(
                {level: getattr(obj, level) for level in ("gate", "building", "grid", "community", "street")}
            )
        )
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        record(
            "grant",
            actor=request.user,
            role="superuser",
            obj=obj,
            community_id=obj.community_id,
            reason=obj.reason or "admin",
            detail={"role": obj.role, "level": obj.level},
            request=request,
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
