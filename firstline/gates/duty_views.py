"""The duty pages of the gates: who is on now at each gate, a gate's roster and its history.

A gate's duty is seen by those who guard it or build it: a membership at the gate,
its community or its street whose role guards gates (``guard_gate``) or manages
places (``manage_places``). Any other gate is a 404, and a user who holds neither
anywhere is refused the list (403). The roster is changed by ``manage_places``
only; the guard of a shift hands it over. A gate's scans and visits come through
the gate (a scan belongs to the gate it was made at); names are masked.

A pass's scans (``duty:pass_scans``) and a household's (the section drawn by the
``gate_history`` template tag on the household page) come through the pass or the
household, read with ``view_ledger``.

One address serves a page and its fragment (template partials): htmx posts get the
roster section back, with the action's refusal in it when it refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from firstline.gates.duty import shift_at
from firstline.gates.duty_forms import HandoverForm, HistoryFilter, RotationForm, ShiftForm
from firstline.gates.models import Outing, Pass, Scan, Shift, Visit
from firstline.gates.roster import (
    HANDOVER_GRACE,
    day_start,
    do_add_shift,
    do_fill_rotation,
    do_hand_over,
    do_remove_shift,
    last_handover,
    possible_guards,
)
from firstline.places.models import Gate
from firstline.scoping import active_memberships, get_visible_or_404, memberships_with, role_for, user_can
from firstline.sealing import mask_name

ROSTER_DAYS = 8  # today and the next 7 days
HISTORY_PAGE = 25
GATE_CAPABILITIES = ("guard_gate", "manage_places")

FLAG_WORDS = {
    "passback": gettext_lazy("same direction twice"),
    "over_quota": gettext_lazy("over the household's outings"),
    "fever": gettext_lazy("fever"),
    "late_return": gettext_lazy("back late"),
    "typed": gettext_lazy("code typed in"),
    "from_risk_area": gettext_lazy("from a risk area"),
}
REASON_WORDS = {
    "malformed": gettext_lazy("not a pass"),
    "unknown_key": gettext_lazy("unknown signature key"),
    "bad_signature": gettext_lazy("forged or damaged"),
    "bad_revocation_list": gettext_lazy("revocation list damaged"),
    "stale_revocation_list": gettext_lazy("revocation list too old"),
    "clock_moved_back": gettext_lazy("phone clock moved back"),
    "wrong_gate": gettext_lazy("pass of another gate"),
    "not_yet_valid": gettext_lazy("not valid yet"),
    "expired": gettext_lazy("expired"),
    "revoked": gettext_lazy("revoked"),
    "suspended": gettext_lazy("suspended (isolation)"),
    "unknown_pass": gettext_lazy("unknown pass"),
}


def in_words(codes: list[str] | str) -> str:
    """Flags or a refusal reason, in the user's language (an unknown code stays as it is)."""
    words = {**FLAG_WORDS, **REASON_WORDS}
    items = [codes] if isinstance(codes, str) else codes
    separator = "、" if (get_language() or "").startswith("zh") else ", "
    return separator.join(str(words.get(code, code)) for code in items if code)


# --- access ----------------------------------------------------------------------------------------


def guards_gates(user: Any) -> bool:
    """Whether the user reaches any gate's duty (the navigation links the gate list for them)."""
    return any(
        membership.level in Gate.SCOPE and any(membership.can(c) for c in GATE_CAPABILITIES)
        for membership in active_memberships(user)
    )


def gates_for(user: Any) -> QuerySet[Gate]:
    """The gates whose duty the user sees: a membership at the gate, its community or its street whose role
    guards gates or manages places. Nothing for anyone else (a grid-level membership reaches no gate)."""
    query: Q | None = None
    for membership in active_memberships(user):
        if not any(membership.can(capability) for capability in GATE_CAPABILITIES):
            continue
        level = membership.level
        if level not in Gate.SCOPE:
            continue
        part = Q(**{Gate.SCOPE[level]: membership.place_id_at(level)})
        query = part if query is None else query | part
    if query is None:
        return Gate.objects.none()
    return Gate.objects.filter(query)


def _gate(request: HttpRequest, code: str) -> Gate:
    return get_visible_or_404(gates_for(request.user).select_related("community", "compound"), code=code)


def _shift(request: HttpRequest, code: str) -> Shift:
    gates = gates_for(request.user).values("id")
    return get_visible_or_404(Shift.objects.filter(gate_id__in=gates).select_related("gate", "guard"), code=code)


def _app_url(gate: Gate) -> str:
    return reverse("gates:app", kwargs={"code": gate.code})


def shift_span(starts_at: datetime, ends_at: datetime) -> str:
    """ "08:00–16:00", "16:00–24:00", "22:00–next day 06:00": a shift's hours as a guard reads them."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if end.date() == start.date():
        return f"{start:%H:%M}–{end:%H:%M}"
    if end.date() == start.date() + timedelta(days=1):
        if end.hour == end.minute == 0:
            return f"{start:%H:%M}–24:00"
        return f"{start:%H:%M}–" + _("next day %(time)s") % {"time": f"{end:%H:%M}"}
    return f"{start:%m-%d %H:%M}–{end:%m-%d %H:%M}"


def _spanned(shifts: Any) -> list[Shift]:
    shifts = list(shifts)
    for shift in shifts:
        shift.span = shift_span(shift.starts_at, shift.ends_at)
    return shifts


def _ledger_community(user: Any, gate: Gate) -> Any:
    """The gate's community for the navigation's ledger links, if the user reads its ledger (a guard does not)."""
    reads = any(
        m.community_id == gate.community_id or (m.level == "street" and m.street_id == gate.street_id)
        for m in memberships_with(user, "view_ledger")
    )
    return gate.community if reads else None


# --- the list of gates -----------------------------------------------------------------------------


@never_cache
@login_required
def gate_list(request: HttpRequest) -> HttpResponse:
    """Every gate in the user's reach with who is on duty now; a gate with nobody is red."""
    if not guards_gates(request.user):
        raise PermissionDenied
    now = timezone.now()
    gates = list(gates_for(request.user).select_related("community", "compound").order_by("community__name", "name"))
    on_now: dict[int, list[Shift]] = {gate.id: [] for gate in gates}
    for shift in _spanned(
        Shift.objects.filter(gate__in=gates, starts_at__lte=now, ends_at__gt=now).select_related("guard")
    ):
        on_now[shift.gate_id].append(shift)
    rows = [{"gate": gate, "shifts": on_now[gate.id]} for gate in gates]
    return render(
        request,
        "gates/duty/gate_list.html",
        {
            "rows": rows,
            "unguarded": sum(1 for row in rows if not row["shifts"]),
            "community": _one_community(request.user, gates),
        },
    )


def _one_community(user: Any, gates: list[Gate]) -> Any:
    communities = {gate.community_id: gate for gate in gates}
    return _ledger_community(user, next(iter(communities.values()))) if len(communities) == 1 else None


# --- one gate --------------------------------------------------------------------------------------


@dataclass
class Segment:
    left: float
    width: float
    shift: Shift | None = None  # None: a gap, nobody on duty

    @property
    def style(self) -> str:
        return f"left:{self.left:.2f}%;width:{self.width:.2f}%"


@dataclass
class Day:
    day: date
    shifts: list[Shift] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)
    entries: list[tuple[datetime, Shift | None, str]] = field(default_factory=list)  # shifts and gaps, in order


def roster_days(gate: Gate, first: date, days: int = ROSTER_DAYS) -> list[Day]:
    """The gate's roster day by day: its shifts, a 24-hour bar of them and the hours nobody is on duty."""
    start, end = day_start(first), day_start(first + timedelta(days=days))
    shifts = list(
        Shift.objects.filter(gate=gate, starts_at__lt=end, ends_at__gt=start)
        .select_related("guard")
        .order_by("starts_at")
    )
    result = []
    for number in range(days):
        day = first + timedelta(days=number)
        begin, finish = day_start(day), day_start(day + timedelta(days=1))
        length = (finish - begin).total_seconds()
        row = Day(day, _spanned(s for s in shifts if s.starts_at < finish and s.ends_at > begin))
        covered = begin
        for shift in row.shifts:
            a, b = max(shift.starts_at, begin), min(shift.ends_at, finish)
            if a > covered:
                row.gaps.append((covered, a))
            row.segments.append(
                Segment(100 * (a - begin).total_seconds() / length, 100 * (b - a).total_seconds() / length, shift)
            )
            covered = max(covered, b)
        if covered < finish:
            row.gaps.append((covered, finish))
        for a, b in row.gaps:
            row.segments.append(
                Segment(100 * (a - begin).total_seconds() / length, 100 * (b - a).total_seconds() / length)
            )
        row.entries = sorted(
            [(max(shift.starts_at, begin), shift, shift.span) for shift in row.shifts]  # type: ignore[attr-defined]
            + [(a, None, shift_span(a, b)) for a, b in row.gaps],
            key=lambda entry: entry[0],
        )
        result.append(row)
    return result


@dataclass
class DayCounts:
    entered: int = 0
    left: int = 0
    refused: int = 0
    fever: int = 0

    def bars(self) -> list[dict[str, Any]]:
        rows = [
            ("in", pgettext("direction", "in"), self.entered),
            ("out", pgettext("direction", "out"), self.left),
            ("refused", _("refused"), self.refused),
            ("fever", _("fever"), self.fever),
        ]
        peak = max((count for _, _, count in rows), default=0) or 1
        return [
            {"key": key, "label": label, "count": count, "y": 6 + index * 26, "width": round(220 * count / peak, 1)}
            for index, (key, label, count) in enumerate(rows)
        ]


def day_counts(gate: Gate, day: date) -> DayCounts:
    """People in and out at the gate on ``day`` (passes and visits), scans refused, fevers."""
    start, end = day_start(day), day_start(day + timedelta(days=1))
    counts = DayCounts()
    rows = [
        *Scan.objects.filter(gate=gate, scanned_at__gte=start, scanned_at__lt=end).values_list(
            "direction", "verdict", "flags"
        ),
        *(
            (d, Scan.Verdict.PASSED, f)
            for d, f in Visit.objects.filter(gate=gate, at__gte=start, at__lt=end).values_list("direction", "flags")
        ),
    ]
    for direction, verdict, flags in rows:
        if verdict == Scan.Verdict.REFUSED:
            counts.refused += 1
        elif direction == Scan.Direction.IN:
            counts.entered += 1
        else:
            counts.left += 1
        if "fever" in (flags or []):
            counts.fever += 1
    return counts


def scan_rows(scans: Any) -> list[dict[str, Any]]:
    """Scans as the history shows them: masked, in words, with who was on duty."""
    rows = []
    for scan in scans:
        item = scan.pass_obj
        guard = scan.shift.guard if scan.shift_id and scan.shift else scan.recorded_by
        rows.append(
            {
                "scan": scan,
                "at": scan.scanned_at,
                "direction": scan.get_direction_display(),
                "short_code": item.short_code if item else "",
                "kind": item.get_kind_display() if item else "",
                "name": item.masked_name if item else "",
                "temperature": scan.temperature,
                "verdict": scan.get_verdict_display(),
                "verdict_key": scan.verdict,
                "why": in_words(scan.flags if scan.verdict != Scan.Verdict.REFUSED else [scan.reason, *scan.flags]),
                "guard": guard.display_name() if guard else "",
                "gate": scan.gate,
            }
        )
    return rows


SCAN_RELATED = ("pass_obj", "shift__guard", "recorded_by", "gate")


def _history_context(request: HttpRequest, gate: Gate) -> dict[str, Any]:
    form = HistoryFilter(request.GET or None)
    day = verdict = None
    if form.is_valid():
        day, verdict = form.cleaned_data["day"], form.cleaned_data["verdict"]
    scans = Scan.objects.filter(gate=gate).select_related(*SCAN_RELATED).order_by("-scanned_at", "-id")
    visits = Visit.objects.filter(gate=gate).select_related("shift__guard", "recorded_by").order_by("-at", "-id")
    if day:
        start, end = day_start(day), day_start(day + timedelta(days=1))
        scans = scans.filter(scanned_at__gte=start, scanned_at__lt=end)
        visits = visits.filter(at__gte=start, at__lt=end)
    if verdict:
        scans = scans.filter(verdict=verdict)
    page = Paginator(scans, HISTORY_PAGE).get_page(request.GET.get("page"))
    counted = day or timezone.localdate()
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filter": form,
        "page": page,
        "scans": scan_rows(page.object_list),
        "visits": [
            {
                "visit": visit,
                "name": mask_name(visit.name) if visit.name else "",
                "why": in_words(visit.flags),
                "guard": (visit.shift.guard if visit.shift_id and visit.shift else visit.recorded_by).display_name(),
            }
            for visit in visits[:HISTORY_PAGE]
        ],
        "counted_day": counted,
        "counts": day_counts(gate, counted).bars(),
        "filter_query": query.urlencode(),
    }


def _roster_context(request: HttpRequest, gate: Gate, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    today = timezone.localdate(now)
    can_manage = user_can(request.user, "manage_places", gate)
    guards = possible_guards(gate) if can_manage else []
    mine = shift_at(request.user, gate, now) or (
        Shift.objects.filter(gate=gate, guard_id=request.user.pk, ends_at__lte=now, ends_at__gt=now - HANDOVER_GRACE)
        .order_by("-ends_at")
        .first()
    )
    if mine is not None:
        _spanned([mine])
    start = now.replace(second=0, microsecond=0)
    context = {
        "gate": gate,
        "now": now,
        "on_now": _spanned(
            Shift.objects.filter(gate=gate, starts_at__lte=now, ends_at__gt=now)
            .select_related("guard")
            .order_by("starts_at")
        ),
        "handover": last_handover(gate, now),
        "days": roster_days(gate, today),
        "can_manage": can_manage,
        "my_shift": mine,
        "shift_form": ShiftForm(
            guards=guards,
            initial={"starts_at": start, "ends_at": start + timedelta(hours=8)},
            auto_id="shift-%s",
        ),
        "rotation_form": RotationForm(
            guards=guards, initial={"guards": [g.code for g in guards[:3]]}, auto_id="rotation-%s"
        ),
        "handover_form": HandoverForm(initial={"note": mine.handover_note if mine else ""}, auto_id="handover-%s"),
        "errors": [],
    }
    context.update(extra)
    return context


@never_cache
@login_required
def gate_page(request: HttpRequest, code: str) -> HttpResponse:
    """A gate: on duty now, the last note handed over, the roster of 8 days, the scans and visits."""
    gate = _gate(request, code)
    if getattr(request, "htmx", False) and request.GET.get("part") == "history":
        return render(request, "gates/duty/gate.html#history", {"gate": gate, **_history_context(request, gate)})
    context = {**_roster_context(request, gate), **_history_context(request, gate)}
    context.update(
        community=_ledger_community(request.user, gate),
        app_url=_app_url(gate),
        may_set_rules=bool(role_for(request.user, "manage_rules", gate.community)),
    )
    return render(request, "gates/duty/gate.html", context)


def _answer(
    request: HttpRequest, gate: Gate, *, errors: list[str] | None = None, notice: str = "", **extra: Any
) -> HttpResponse:
    """htmx: the roster section again (with the refusal, nothing changed); otherwise back to the gate page."""
    if getattr(request, "htmx", False):
        context = _roster_context(request, gate, errors=errors or [], notice=notice, **extra)
        return render(request, "gates/duty/gate.html#roster", context)
    if errors:
        messages.error(request, " ".join(errors))
    elif notice:
        messages.success(request, notice)
    return redirect("duty:gate", code=gate.code)


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


@require_POST
@login_required
def shift_add(request: HttpRequest, code: str) -> HttpResponse:
    gate = _gate(request, code)
    if not user_can(request.user, "manage_places", gate):
        raise PermissionDenied
    form = ShiftForm(request.POST, guards=possible_guards(gate))
    if not form.is_valid():
        return _answer(request, gate, errors=[str(m) for errors in form.errors.values() for m in errors])
    try:
        do_add_shift(
            request.user,
            gate,
            form.guard_by_code[form.cleaned_data["guard"]],
            form.cleaned_data["starts_at"],
            form.cleaned_data["ends_at"],
            request=request,
        )
    except ValidationError as error:
        return _answer(request, gate, errors=_messages(error))
    return _answer(request, gate, notice=_("The shift was added."))


@require_POST
@login_required
def shift_remove(request: HttpRequest, code: str) -> HttpResponse:
    shift = _shift(request, code)
    gate = _gate(request, shift.gate.code)
    try:
        do_remove_shift(request.user, shift, request=request)
    except ValidationError as error:
        return _answer(request, gate, errors=_messages(error))
    return _answer(request, gate, notice=_("The shift was removed."))


@require_POST
@login_required
def rotation(request: HttpRequest, code: str) -> HttpResponse:
    """Fill the next 7 days (from today) with the chosen guards taking turns."""
    gate = _gate(request, code)
    if not user_can(request.user, "manage_places", gate):
        raise PermissionDenied
    form = RotationForm(request.POST, guards=possible_guards(gate))
    if not form.is_valid():
        return _answer(request, gate, errors=[str(m) for errors in form.errors.values() for m in errors])
    guards = [form.guard_by_code[code] for code in form.cleaned_data["guards"]]
    try:
        added, left_out = do_fill_rotation(
            request.user, gate, guards, timezone.localdate(), 7, form.cleaned_data["hours"], request=request
        )
    except ValidationError as error:
        return _answer(request, gate, errors=_messages(error))
    notice = ngettext("%(count)d shift was added.", "%(count)d shifts were added.", len(added)) % {"count": len(added)}
    if left_out:
        notice += " " + ngettext(
            "%(count)d was left out: over, or someone was already on duty.",
            "%(count)d were left out: over, or someone was already on duty.",
            left_out,
        ) % {"count": left_out}
    return _answer(request, gate, notice=notice)


@require_POST
@login_required
def handover(request: HttpRequest, code: str) -> HttpResponse:
    """The guard of a shift writes the note the next guard will see."""
    shift = _shift(request, code)
    gate = _gate(request, shift.gate.code)
    form = HandoverForm(request.POST)
    if not form.is_valid():
        return _answer(request, gate, errors=[str(m) for errors in form.errors.values() for m in errors])
    try:
        do_hand_over(request.user, shift, form.cleaned_data["note"], request=request)
    except ValidationError as error:
        return _answer(request, gate, errors=_messages(error))
    return _answer(request, gate, notice=_("The note was handed over."))


# --- a pass's scans --------------------------------------------------------------------------------


def outing_rows(outings: Any, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for outing in outings:
        if outing.back_at is not None:
            state, key = (_("back late") if outing.back_at > outing.due_back_at else _("back")), "back"
        elif now > outing.due_back_at:
            state, key = _("overdue"), "overdue"
        else:
            state, key = _("out"), "out"
        rows.append({"outing": outing, "state": state, "key": key})
    return rows


@never_cache
@login_required
def pass_scans(request: HttpRequest, code: str) -> HttpResponse:
    """Where a pass was shown, and its outings. The pass page may include the fragment (``?part=scans``)."""
    item = get_visible_or_404(Pass.objects.visible_to(request.user), code=code)
    scans = Scan.objects.filter(pass_obj=item).select_related(*SCAN_RELATED).order_by("-scanned_at", "-id")
    page = Paginator(scans, HISTORY_PAGE).get_page(request.GET.get("page"))
    outings = Outing.objects.filter(pass_obj=item).select_related("pass_obj").order_by("-out_at")[:HISTORY_PAGE]
    context = {
        "item": item,
        "page": page,
        "scans": scan_rows(page.object_list),
        "outings": outing_rows(outings, timezone.now()),
    }
    if getattr(request, "htmx", False) or request.GET.get("part") == "scans":
        return render(request, "gates/duty/pass_scans.html#scans", context)
    return render(request, "gates/duty/pass_scans.html", context)


def household_history(user: Any, household: Any, limit: int = 20) -> dict[str, Any]:
    """A household's passes, their last scans and outings, for the household page (``view_ledger``)."""
    passes = list(Pass.objects.visible_to(user).filter(household=household).order_by("-issued_at"))
    if not passes:
        return {"passes": [], "scans": [], "outings": []}
    scans = Scan.objects.filter(pass_obj__in=passes).select_related(*SCAN_RELATED).order_by("-scanned_at", "-id")
    outings = Outing.objects.filter(pass_obj__in=passes).select_related("pass_obj").order_by("-out_at")
    return {
        "passes": passes,
        "scans": scan_rows(scans[:limit]),
        "outings": outing_rows(outings[:limit], timezone.now()),
    }
