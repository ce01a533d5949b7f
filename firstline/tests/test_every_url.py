"""Every URL and API route, walked by the three personas.

- ``grid_worker`` works grid A1 (may read, write, unmask);
- ``viewer`` is a read-only viewer of grid A1 (reads; every write is refused);
- ``other_worker`` works grid A2 of the same community: every A1 record is a 404
  whose body holds none of the record's data, and every write to it is refused.

A refused write must change nothing: the whole database is compared before and after.
The route table must name every route the project serves, so a new route cannot
escape the walk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from firstline.audit.actions import do_request_export
from firstline.audit.models import AuditEvent
from firstline.conftest import World
from firstline.people.queries import ResidentFilter

ALL = ("grid_worker", "viewer", "other_worker")


@dataclass
class Route:
    kwargs: Callable[[World], dict[str, str]] = lambda w: {}
    get: dict[str, int] | int | None = 200  # expected GET status per persona (None: not a GET route)
    post: dict[str, int] | int | None = None  # expected status of a write attempt per persona
    post_data: Callable[[World], dict[str, Any]] = lambda w: {}
    json_body: bool = False
    writes: bool = True  # whether an allowed POST is expected to change the database


def a1(ok: int = 200, viewer: int | None = None, other: int = 404) -> dict[str, int]:
    return {"grid_worker": ok, "viewer": ok if viewer is None else viewer, "other_worker": other}


RESIDENT = lambda w: {"code": w.resident_a1.code}  # noqa: E731
HOUSEHOLD = lambda w: {"code": w.household_a1.code}  # noqa: E731
COMMUNITY = lambda w: {"community": w.community.code}  # noqa: E731
IMPORT_JOB = lambda w: {"community": w.community.code, "code": _import_job(w).code}  # noqa: E731


def _import_job(w: World):
    from firstline.people.models import ImportJob

    job, _ = ImportJob.objects.get_or_create(
        community=w.community, street=w.street, filename="list.xlsx", defaults={"created_by": w.admin}
    )
    return job


A1_EXPORT = lambda w: {"code": do_request_export(w.grid_worker, w.community, ResidentFilter()).code}  # noqa: E731
RESIDENT_FORM = lambda w: {  # noqa: E731
    "name": "改名",
    "sex": "M",
    "birth_date": "1990-03-07",
    "id_type": "resident_id",
    "relation_to_head": "head",
    "person_type": "registered",
    "reason": "核对",
    "id_number": "",
    "phone": "",
}

ROUTES: dict[str, Route] = {
    "healthz": Route(),
    "home": Route(get=302),
    "set_language": Route(get=None, post=302, post_data=lambda w: {"language": "en", "next": "/"}, writes=False),
    "accounts:login": Route(get=302),  # a logged-in user is sent on
    "accounts:logout": Route(get=None),  # walked last, in test_it_logs_out
    "api:openapi-json": Route(),
    "api:openapi-view": Route(),
    "api:api-root": Route(get=404),
    "api:issue_token": Route(
        get=None,
        post=401,
        post_data=lambda w: {"username": "worker_a1", "password": "wrong"},
        json_body=True,
        writes=False,
    ),
    "api:list_residents": Route(),
    "api:search_residents": Route(get=None, post=200, post_data=lambda w: {"q": "张"}, json_body=True, writes=False),
    "api:get_resident": Route(kwargs=RESIDENT, get=a1()),
    "api:get_household": Route(kwargs=HOUSEHOLD, get=a1()),
    "audit:export_new": Route(kwargs=COMMUNITY, post=302, post_data=lambda w: {"format": "csv"}),
    "audit:exports": Route(kwargs=COMMUNITY),
    "audit:export": Route(kwargs=A1_EXPORT, get=a1(viewer=404)),
    "audit:export_download": Route(kwargs=A1_EXPORT, get=405, post=a1(viewer=404)),
    "audit:export_decide": Route(kwargs=A1_EXPORT, get=405, post=404, post_data=lambda w: {"decision": "approve"}),
    "accounts:team": Route(
        kwargs=COMMUNITY,
        get=403,
        post=403,
        post_data=lambda w: {
            "username": "worker_a2",
            "role": "grid_worker",
            "place": f"grid:{w.grid_a1.code}",
            "reason": "顶班",
        },
    ),
    "accounts:revoke": Route(
        kwargs=lambda w: {"code": w.admin.memberships.get().code},
        get=405,
        post=404,
        post_data=lambda w: {"reason": "调离"},
    ),
    "places:community_buildings": Route(kwargs=COMMUNITY),
    "places:building_households": Route(
        kwargs=lambda w: {"code": w.building_a1.code},
        get=a1(403),
        post=a1(403),
        post_data=lambda w: {"floors": 2, "entrances": 1, "rooms_per_floor": 2},
    ),
    # Counts only: each persona counts her own grid; no resident is named.
    "dashboard:community": Route(kwargs=COMMUNITY),
    "dashboard:street": Route(kwargs=lambda w: {"street": w.street.code}),
    "people:overview": Route(kwargs=COMMUNITY),
    "people:residents": Route(kwargs=COMMUNITY, post=200, post_data=lambda w: {"q": "张"}, writes=False),
    "people:household": Route(kwargs=HOUSEHOLD, get=a1()),
    "people:resident_new": Route(
        kwargs=HOUSEHOLD,
        get=a1(viewer=403),
        post=a1(302, viewer=403),
        post_data=lambda w: {**RESIDENT_FORM(w), "name": "新居民", "birth_date": ""},
    ),
    # Imports are community-level: no grid-level persona may upload, see or decide one.
    "people:import_upload": Route(kwargs=COMMUNITY, get=403, post=403, post_data=lambda w: {"source": "区指挥部"}),
    "people:import_job": Route(kwargs=IMPORT_JOB, get=403, post=403, post_data=lambda w: {"action": "discard"}),
    "people:import_report": Route(kwargs=IMPORT_JOB, get=403),
    "people:resident": Route(kwargs=RESIDENT, get=a1()),
    "people:resident_unmask": Route(
        kwargs=RESIDENT,
        get=405,
        post=a1(200, viewer=403),
        post_data=lambda w: {"field": "phone", "reason": "电话随访"},
    ),
    "people:resident_edit": Route(
        kwargs=RESIDENT,
        get=a1(viewer=403),
        post=a1(302, viewer=403),
        post_data=RESIDENT_FORM,
    ),
    "people:movement_new": Route(
        kwargs=RESIDENT,
        get=a1(viewer=403),
        post=a1(302, viewer=403),
        post_data=lambda w: {
            "direction": "arrival",
            "origin": "湖北省武汉市",
            "transport": "train",
            "trip_number": "G1",
        },
    ),
}


def project_routes() -> dict[str, Any]:
    """name → pattern for every route outside the Django admin."""
    found: dict[str, Any] = {}

    def walk(patterns, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace and pattern.namespace
                    else (pattern.namespace or namespace)
                )
                walk(pattern.url_patterns, inner or "")
            elif isinstance(pattern, URLPattern) and pattern.name:
                found[f"{namespace}:{pattern.name}" if namespace else pattern.name] = pattern

    walk(get_resolver().url_patterns)
    return found


def database_state() -> dict[str, list[tuple]]:
    """Every row of every FirstLine table (and users), to prove that a refused write changed nothing."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in {"places", "people", "accounts", "audit"}:
            state[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return state


def personal_markers(world: World) -> list[str]:
    resident = world.resident_a1
    return [resident.name, resident.id_number_masked, resident.phone_masked, resident.code]


def test_the_table_names_every_route():
    assert set(project_routes()) == set(ROUTES), "add new routes to ROUTES with their expectations"


def _expected(value: dict[str, int] | int | None, persona: str) -> int | None:
    return value.get(persona) if isinstance(value, dict) else value


def _request(client, method: str, url: str, route: Route, world: World):
    if method == "get":
        return client.get(url)
    data = route.post_data(world)
    if route.json_body:
        return client.post(url, data=json.dumps(data), content_type="application/json")
    return client.post(url, data=data)


@pytest.mark.parametrize("persona", ALL)
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_for_every_persona(world, client, name, persona):
    route = ROUTES[name]
    user = getattr(world, persona)
    client.force_login(user)
    url = reverse(name, kwargs=route.kwargs(world))
    for method, expectation in (("get", route.get), ("post", route.post)):
        expected = _expected(expectation, persona)
        if expected is None:
            continue
        before = database_state()
        audited_before = set(AuditEvent.objects.values_list("pk", flat=True))
        response = _request(client, method, url, route, world)
        assert response.status_code == expected, f"{method.upper()} {name} as {persona}"
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
            errors="replace"
        )
        if expected == 404 or persona == "other_worker":
            leaked = [marker for marker in personal_markers(world) if marker and marker in body]
            assert not leaked, f"{method.upper()} {name} as {persona} shows grid A1's resident"
        if method == "post" and (expected >= 400 or not route.writes):
            after = database_state()
            # A refused write changes nothing (a read-only POST may only add its own audit events).
            after.pop("audit.AuditEvent"), before.pop("audit.AuditEvent")
            after.pop("audit.AuditHead"), before.pop("audit.AuditHead")
            assert after == before, f"refused {name} as {persona} changed the database"
        if method == "post" and expected >= 400:
            written = AuditEvent.objects.exclude(pk__in=audited_before).filter(
                action__in=("unmask", "create", "update")
            )
            assert not written.exists(), f"refused {name} as {persona} was audited as done"


@pytest.mark.parametrize("persona", ALL)
def test_it_logs_out(world, client, persona):
    client.force_login(getattr(world, persona))
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("people:overview", kwargs=COMMUNITY(world))).status_code == 302


def test_anonymous_users_get_nothing(world, client):
    for name, route in ROUTES.items():
        if route.get is None or name in {
            "healthz",
            "accounts:login",
            "api:openapi-json",
            "api:openapi-view",
            "api:api-root",
        }:
            continue
        response = client.get(reverse(name, kwargs=route.kwargs(world)))
        assert response.status_code in {302, 401, 405}, name
        for marker in personal_markers(world):
            assert marker not in response.content.decode(), name


@pytest.mark.parametrize("persona", ALL)
def test_the_admin_is_closed_to_everyone_but_superusers(world, client, persona):
    client.force_login(getattr(world, persona))
    for url in (
        "/admin/",
        "/admin/people/",
        "/admin/places/household/",
        f"/admin/places/household/{world.household_a1.pk}/change/",
        "/admin/audit/auditevent/",
        "/admin/accounts/membership/",
    ):
        response = client.get(url)
        assert response.status_code in {302, 404}, url
        assert world.household_a1.room not in response.content.decode() or response.status_code == 302
