"""The gate app: one installable page that checks passes offline (``static/gates/gate-app.js``).

The page is the app shell: the gate's name, the texts in the user's language and
the addresses the script needs. Everything else — keys, revocation list, short
codes of the valid passes, the guard's shifts — comes from the gate's sync
(``gates.sync``) and is kept in the phone's IndexedDB; scans and visits are queued
there and sent when there is signal. The service worker (one for every gate, scope
``/gates/``) keeps the shell so that the page opens without signal.
"""

from __future__ import annotations

import hashlib
import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from firstline.places.models import Gate
from firstline.scoping import get_visible_or_404, role_for

# The files the page needs besides itself: the service worker keeps them (their hashed names
# change with their content, so a new release brings a new cache).
SHELL_ASSETS = (
    "gates/gate-app.js",
    "gates/gate-app.css",
    "vendor/jsQR.js",
    "vendor/htmx.min.js",
    "firstline/site.css",
    "firstline/icon.svg",
)


def _guarded_gate(request: HttpRequest, code: str) -> Gate:
    """The gate, if the user may guard it; 404 otherwise (whether it exists or not)."""
    gate = get_visible_or_404(Gate.objects.visible_to(request.user), code=code)
    if not role_for(request.user, "guard_gate", gate):
        raise Http404
    return gate


def texts() -> dict[str, str]:
    """What the script says, in the request's language (the page carries them as JSON)."""
    return {
        # verdicts and reasons (the codes of tokens.verify, and the short-code checks)
        "pass": pgettext("verdict", "Pass"),
        "refuse": _("No entry"),
        "malformed": _("Not a FirstLine pass"),
        "unknown_key": _("Signed with an unknown key: sync, then scan again"),
        "bad_signature": _("Forged or damaged pass"),
        "wrong_gate": _("Not a pass for this gate"),
        "not_yet_valid": _("Not valid yet"),
        "expired": _("Expired"),
        "stale_revocation_list": _("The revocation list is out of date: sync when online"),
        "revoked": _("This pass has been revoked"),
        "suspended": _("Someone in this household is under home isolation: the pass is suspended"),
        "clock_moved_back": _("The phone's clock was moved back: set the right time"),
        "unknown_code": _("Unknown short code (not a valid pass of this gate)"),
        "bad_code": _("A short code has 7 letters or digits"),
        "no_sync": _("No list on this phone yet: sync when online"),
        "bad_list": _("The downloaded list failed its signature check: not used"),
        "no_qr": _("No QR code found in the photo"),
        # kinds of pass
        "kind_1": _("resident outing pass"),
        "kind_2": _("worker pass"),
        "kind_3": _("vehicle pass"),
        "kind_4": _("visitor day pass"),
        "direction_in": _("Entering"),
        "direction_out": _("Leaving"),
        # temperature
        "fever": _("Fever: do not let through, report at once"),
        "temperature_range": _("Temperature must be between 34 and 43 °C"),
        # state of the phone
        "queue": _("%(count)s waiting to upload"),
        "synced_at": _("List synced %(when)s"),
        "never_synced": _("Never synced"),
        "list_old": _("The list is older than %(hours)s hours: passes are refused until you sync"),
        "offline": _("Offline: scans are kept on this phone"),
        "online": _("Online"),
        "syncing": _("Syncing…"),
        "sync_failed": _("Sync failed: the old list is kept"),
        "synced": _("Synced: %(count)s valid passes"),
        "login_again": _("Log in again to upload"),
        "not_on_shift": _("You are not on shift at this gate now"),
        "next_shift": _("Your next shift: %(when)s"),
        "granted": _("Temporary grant to guard this gate"),
        "recorded": _("Recorded, waiting to upload"),
        "camera_failed": _("The camera cannot be opened: take a photo or type the code"),
        "uploaded": _("Uploaded"),
        "conflict": _("%(count)s records conflicted with earlier ones: kept aside for staff"),
        "required": _("Fill in the required fields"),
    }


@never_cache
@login_required
@require_GET
def gate_app(request: HttpRequest, code: str) -> HttpResponse:
    gate = _guarded_gate(request, code)
    context = {
        "gate": gate,
        "texts": texts(),
        "config": {
            "gate": gate.code,
            "sync_url": reverse("api:gate_sync", kwargs={"code": gate.code}),
            "scans_url": "/api/v1/scans",
            "visits_url": "/api/v1/visits",
            "sw_url": reverse("gates:service_worker"),
            "login_url": reverse("accounts:login"),
        },
    }
    return render(request, "gates/app.html", context)


@login_required
@require_GET
def manifest(request: HttpRequest, code: str) -> HttpResponse:
    gate = _guarded_gate(request, code)
    app = reverse("gates:app", kwargs={"code": gate.code})
    body = {
        "name": f"{_('FirstLine gate')} · {gate.name}",
        "short_name": gate.name[:12],
        "start_url": app,
        "id": app,
        "scope": "/gates/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": [{"src": static("firstline/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The same script for everyone (it holds no data): the shell's static files and how to serve them offline."""
    assets = json.dumps([static(name) for name in SHELL_ASSETS])
    version = hashlib.sha256(render_to_string("gates/sw.js", {"assets": assets, "version": ""}).encode()).hexdigest()
    version = version[:12]
    body = render_to_string("gates/sw.js", {"assets": assets, "version": version})
    response = HttpResponse(body, content_type="text/javascript")
    # Browsers check for a new worker at most daily anyway; never let a cache serve an old one.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/gates/"
    return response
