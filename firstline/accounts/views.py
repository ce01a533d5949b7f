"""The team of a community: who holds which role where, temporary grants (R15) and revocations;
the devices (API tokens) of a user and their team, and the password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from firstline.accounts.actions import do_grant_membership, do_revoke_membership, do_revoke_token
from firstline.accounts.forms import GrantForm
from firstline.accounts.models import Membership, User
from firstline.accounts.queries import devices_for, revocable_by
from firstline.places.models import Building, Community, Gate, Grid
from firstline.scoping import get_visible_or_404, require


@login_required
def team(request: HttpRequest, community: str) -> HttpResponse:
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    require(request.user, "grant", place)
    places = [
        place,
        *Grid.objects.visible_to(request.user).filter(community=place),
        *Building.objects.visible_to(request.user).filter(community=place).select_related("grid"),
        *Gate.objects.visible_to(request.user).filter(community=place),
    ]
    form = GrantForm(request.POST or None, places=places)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(username=form.cleaned_data["username"], is_active=True).first()
        if user is None:
            form.add_error("username", _("There is no active user with this username."))
        else:
            try:
                do_grant_membership(
                    request.user,
                    user,
                    form.cleaned_data["role"],
                    form.cleaned_data["place"],
                    ends_at=form.cleaned_data["ends_at"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as error:
                form.add_action_errors(error)
            else:
                messages.success(request, _("The role was granted."))
                return redirect("accounts:team", community=place.code)
    memberships = (
        Membership.objects.visible_to(request.user, "grant")
        .active()
        .filter(community=place)
        .select_related("user", "granted_by", "community", "grid", "building", "gate")
        .order_by("level", "role", "user__username")
    )
    return render(request, "accounts/team.html", {"community": place, "memberships": memberships, "form": form})


@require_POST
@login_required
def revoke(request: HttpRequest, code: str) -> HttpResponse:
    membership = get_visible_or_404(
        Membership.objects.visible_to(request.user, "grant").active().select_related("community"), code=code
    )
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Say why this role is taken away."))
    else:
        do_revoke_membership(request.user, membership, reason, request=request)
        messages.success(request, _("The role was taken away."))
    return redirect("accounts:team", community=membership.community.code)


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    """The phones and apps logged in as the user (and, for a team administrator, as the team), to revoke."""
    tokens = devices_for(request.user)
    return render(
        request,
        "accounts/devices.html",
        {
            "mine": [token for token in tokens if token.user_id == request.user.pk],
            "team": [token for token in tokens if token.user_id != request.user.pk],
        },
    )


@require_POST
@login_required
def device_revoke(request: HttpRequest, code: str) -> HttpResponse:
    token = get_visible_or_404(revocable_by(request.user), code=code)
    do_revoke_token(request.user, token, request=request)
    messages.success(request, _("The device is logged out: its token no longer works."))
    return redirect("accounts:devices")


@login_required
def password_done(request: HttpRequest) -> HttpResponse:
    messages.success(request, _("Your password was changed. Your devices were logged out: log them in again."))
    return redirect("accounts:devices")
