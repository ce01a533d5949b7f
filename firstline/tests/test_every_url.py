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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from firstline.audit.actions import do_request_export
from firstline.audit.models import AuditEvent
from firstline.conftest import World
from firstline.people.queries import ResidentFilter
from firstline.status.actions import do_order_isolation, do_refer, do_register_arrival
from firstline.status.models import Observation, Reason, Referral, RiskArea
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task

ALL = ("grid_worker", "viewer", "other_worker")


@dataclass
class Route:
    kwargs: Callable[[World], dict[str, str]] = lambda w: {}
    get: dict[str, int] | int | None = 200  # expected GET status per persona (None: not a GET route)
    post: dict[str, int] | int | None = None  # expected status of a write attempt per persona
    post_data: Callable[[World], dict[str, Any] | list[Any]] = lambda w: {}
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


def _a1_pass(w: World) -> dict[str, str]:
    from firstline.gates.actions import do_issue_pass

    return {"code": do_issue_pass(w.admin, w.resident_a1)[0].code}


def _scan(w: World) -> dict[str, Any]:
    # Refused before the token is read: a made-up one will do (issuing one here would be a write).
    now = timezone.now().isoformat()
    return {
        "client_id": str(uuid.uuid4()),
        "token": "FL1" + "A" * 160,
        "gate": w.gate.code,
        "direction": "out",
        "scanned_at": now,
    }


def _visit(w: World) -> dict[str, Any]:
    now = timezone.now().isoformat()
    return {"client_id": str(uuid.uuid4()), "kind": "visitor", "gate": w.gate.code, "name": "赵六", "at": now}


def _admins_device(w: World) -> dict[str, str]:
    """A device of the community administrator: none of the personas may revoke it."""
    from firstline.accounts.models import ApiToken

    token = ApiToken.objects.filter(user=w.admin).first() or ApiToken.issue(w.admin, name="管理员手机")[0]
    return {"code": token.code}


def _a1_task(w: World) -> dict[str, str]:
    task = open_task(Task.Kind.VISIT, resident=w.resident_a1, note="上门看看", dedupe_key="route-walk")
    return {"code": task.code}


def _a1_order(w: World) -> dict[str, str]:
    return {"code": do_order_isolation(w.admin, w.resident_a1, note="密接").code}


def _a1_referral(w: World) -> dict[str, str]:
    referral = Referral.objects.filter(resident=w.resident_a1).first() or do_refer(w.admin, w.resident_a1, "testing")
    return {"code": referral.code}


def _a1_observation(w: World) -> dict[str, str]:
    observation = Observation(resident=w.resident_a1, reason=Reason.SYMPTOMS, opened_at=timezone.now())
    observation.place_like(w.resident_a1)
    observation.save()
    return {"code": observation.code}


def _a1_arrival(w: World) -> dict[str, str]:
    movement = do_register_arrival(w.admin, {"origin": "上海市"}, resident=w.resident_a1).movement
    return {"community": w.community.code, "code": movement.code}


def _risk_area(w: World) -> dict[str, str]:
    area = RiskArea.objects.create(street=w.street, name="湖北省武汉市", active_from=timezone.localdate())
    return {"street": w.street.code, "code": area.code}


READING = lambda w: {"temperature": "36.6", "client_id": str(uuid.uuid4())}  # noqa: E731


def _map_print(w: World):
    from firstline.status.map import do_request_map_print

    return do_request_map_print(w.grid_worker, w.community, "A3")


A1_MAP_PRINT = lambda w: {"community": w.community.code, "code": _map_print(w).code}  # noqa: E731
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


def _declaration(w: World):
    from firstline.status.declarations import do_submit_declaration
    from firstline.status.models import Declaration

    found = Declaration.objects.filter(community=w.community).first()
    if found is None:
        found = do_submit_declaration(w.community, _declaration_form(w, parsed=True), gate=w.gate)
    return found


def _declaration_form(w: World, parsed: bool = False) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    from firstline.conftest import make_id_number

    arrived = timezone.localdate() - timedelta(days=1)
    return {
        "name": "来访者",
        "id_type": "resident_id",
        "id_number": make_id_number("330106", serial=55),
        "phone": "13600000055",
        "address": "2栋302",
        "origin": "浙江省杭州市",
        "arrival_date": arrived if parsed else arrived.isoformat(),
        "transport": "car",
    }


def _letters_job(w: World) -> dict[str, str]:
    from firstline.places.models import Household
    from firstline.status.letters import LetterText, start_letters

    households = list(Household.objects.filter(building=w.building_a1))
    token = start_letters(
        w.grid_worker, w.building_a1, households, base="http://testserver/checkin/", text=LetterText()
    )
    return {"code": w.building_a1.code, "token": token}


def _a1_request(w: World):
    from firstline.accounts.household_codes import do_issue_household_codes
    from firstline.accounts.models import HouseholdLogin
    from firstline.gates.actions import do_request_pass
    from firstline.gates.models import PassRequest

    found = PassRequest.objects.filter(resident=w.resident_a1, state=PassRequest.State.PENDING).first()
    if found is None:
        do_issue_household_codes(w.admin, [w.household_a1], only_missing=True)
        household_login = HouseholdLogin.objects.get(household=w.household_a1, revoked_at__isnull=True)
        found = do_request_pass(household_login, w.resident_a1, "outing", reason="买菜")
    return found


def _cards_job(w: World) -> dict[str, str]:
    from firstline.gates.cards import do_print_cards

    return {"code": w.building_a1.code, "token": do_print_cards(w.grid_worker, w.building_a1, "outing")}


def _gate_shift(w: World) -> dict[str, str]:
    """A shift of the south gate tomorrow, of a gate guard."""
    from firstline.accounts.models import User
    from firstline.conftest import make_user
    from firstline.gates.models import Shift
    from firstline.gates.roster import do_add_shift

    guard = User.objects.filter(username="guard_s").first() or make_user("guard_s", "gate_guard", w.gate)
    tomorrow = timezone.now() + timedelta(days=1)
    shift = Shift.objects.filter(guard=guard).first() or do_add_shift(
        w.admin, w.gate, guard, tomorrow, tomorrow + timedelta(hours=8)
    )
    return {"code": shift.code}


SHIFT_FORM = lambda w: {"guard": w.grid_worker.code, "starts_at": "2030-01-01T08:00", "ends_at": "2030-01-01T16:00"}  # noqa: E731
DECLARATION = lambda w: {"community": w.community.code, "code": _declaration(w).code}  # noqa: E731
BUILDING = lambda w: {"code": w.building_a1.code}  # noqa: E731
GATE = lambda w: {"code": w.gate.code}  # noqa: E731
# Pages anyone may open without an account: the household check-in and the self-declaration.
PUBLIC = {
    "public:checkin",
    "public:declare_thanks",
    "public:declare_community",
    "public:declare_gate",
    "gates:service_worker",  # the gate app's service worker: the same script for everyone, no data
}

ROUTES: dict[str, Route] = {
    "healthz": Route(),
    "home": Route(get=302),
    "set_language": Route(get=None, post=302, post_data=lambda w: {"language": "en", "next": "/"}, writes=False),
    "accounts:login": Route(get=302),  # a logged-in user is sent on
    "accounts:logout": Route(get=None),  # walked last, in test_it_logs_out
    "api:openapi-json": Route(get=404),  # staff only
    "api:openapi-view": Route(get=404),
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
    "api:issue_pass": Route(
        get=None, post=a1(201, viewer=403), post_data=lambda w: {"resident": w.resident_a1.code}, json_body=True
    ),
    "api:revoke_pass": Route(
        kwargs=_a1_pass, get=None, post=a1(200, viewer=403), post_data=lambda w: {"reason": "遗失"}, json_body=True
    ),
    "api:gate_sync": Route(kwargs=GATE, get=403),  # gate guards and community staff only
    "api:gate_scans": Route(kwargs=GATE, get=403),
    # A batch from a gate phone: none of the personas guards a gate.
    "api:send_scans": Route(get=405, post=403, post_data=lambda w: [_scan(w)], json_body=True),
    "api:send_visits": Route(get=405, post=403, post_data=lambda w: [_visit(w)], json_body=True),
    "api:register_arrival": Route(
        get=None,
        post=a1(201, viewer=403),
        post_data=lambda w: {"resident": w.resident_a1.code, "origin": "上海市", "transport": "train"},
        json_body=True,
    ),
    "api:record_checkin": Route(
        get=None,
        post=a1(201, viewer=403),
        post_data=lambda w: {
            "client_id": str(uuid.uuid4()),
            "resident": w.resident_a1.code,
            "temperature": 36.6,
            "symptoms": [],
            "taken_at": timezone.now().isoformat(),
        },
        json_body=True,
    ),
    "api:update_referral": Route(
        kwargs=_a1_referral,
        get=405,
        post=a1(200, viewer=403),
        post_data=lambda w: {"state": "in_transit"},
        json_body=True,
    ),
    "api:list_tasks": Route(),
    "api:complete_task": Route(
        kwargs=_a1_task, get=405, post=a1(200, viewer=404), post_data=lambda w: {"note": "已电话联系"}, json_body=True
    ),
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
    "accounts:devices": Route(),
    "accounts:device_revoke": Route(kwargs=lambda w: _admins_device(w), get=405, post=404),
    "accounts:password": Route(post=200, post_data=lambda w: {"old_password": "wrong"}, writes=False),
    "accounts:password_done": Route(get=302),
    "api:list_devices": Route(),
    "api:revoke_device": Route(kwargs=lambda w: _admins_device(w), get=405, post=404, json_body=True),
    # From the browser's session there is no device token to end: nothing changes.
    "api:logout_device": Route(get=405, post=204, json_body=True, writes=False),
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
    "public:checkin": Route(post=200, post_data=lambda w: {"code": "2222-2222"}, writes=False),
    "public:checkin_household": Route(get=302, post=302, writes=False),  # no household code entered
    "public:checkin_leave": Route(get=405, post=302, writes=False),
    "public:declare_thanks": Route(),
    "public:declare_community": Route(kwargs=COMMUNITY, post=302, post_data=_declaration_form),
    "public:declare_gate": Route(kwargs=lambda w: {"gate": w.gate.code}, post=302, post_data=_declaration_form),
    # Declarations, posters and the community's letters page are community-level work.
    "public:declarations": Route(kwargs=COMMUNITY, get=403),
    "public:declaration": Route(
        kwargs=DECLARATION, get=403, post=403, post_data=lambda w: {"action": "dismiss", "reason": "重复"}
    ),
    "public:community_poster": Route(kwargs=COMMUNITY, get=403),
    "public:gate_poster": Route(kwargs=GATE, get=403),
    "public:letters": Route(kwargs=COMMUNITY, get=a1(viewer=403, other=200)),  # each worker sees their buildings
    "public:building_letters": Route(
        kwargs=BUILDING, get=a1(viewer=403), post=a1(302, viewer=403), post_data=lambda w: {"action": "issue"}
    ),
    "public:letters_job": Route(kwargs=_letters_job, get=a1(viewer=403)),
    "public:letters_download": Route(kwargs=_letters_job, get=a1(viewer=403)),
    "screening:checkin_new": Route(kwargs=RESIDENT, get=a1(viewer=403), post=a1(302, viewer=403), post_data=READING),
    "screening:referral_new": Route(
        kwargs=RESIDENT,
        get=a1(viewer=403),
        post=a1(302, viewer=403),
        post_data=lambda w: {"destination": "testing", "reason": "symptoms", "facility": "区疾控"},
    ),
    "screening:isolation_new": Route(
        kwargs=RESIDENT, get=a1(viewer=403), post=a1(302, viewer=403), post_data=lambda w: {"kind": "home"}
    ),
    "screening:isolation_extend": Route(
        kwargs=_a1_order,
        get=405,
        post=a1(302, viewer=403),
        post_data=lambda w: {"until": (timezone.localdate() + timedelta(days=30)).isoformat(), "reason": "复查"},
    ),
    # Before the planned end the release is refused: the worker sees why, and nothing changes.
    "screening:isolation_release": Route(kwargs=_a1_order, get=405, post=a1(302, viewer=403), writes=False),
    "screening:referral_update": Route(
        kwargs=_a1_referral, get=405, post=a1(302, viewer=403), post_data=lambda w: {"state": "in_transit"}
    ),
    "screening:observation_close": Route(
        kwargs=_a1_observation, get=405, post=a1(302, viewer=403), post_data=lambda w: {"note": "体温计有误"}
    ),
    "screening:arrival_new": Route(
        kwargs=COMMUNITY,
        get=a1(viewer=403, other=200),
        post=a1(302, viewer=403),
        post_data=lambda w: {"resident": w.resident_a1.code, "origin": "上海市", "transport": "train"},
    ),
    "screening:arrival": Route(kwargs=_a1_arrival, get=a1()),
    # Rules are kept by community administrators and the street: no grid-level persona may see them.
    "screening:community_rules": Route(
        kwargs=COMMUNITY, get=403, post=403, post_data=lambda w: {"isolation_days": "21"}
    ),
    "duty:rules": Route(kwargs=COMMUNITY, get=403, post=403, post_data=lambda w: {"outing_hours": "4"}),
    "screening:risk_areas": Route(
        kwargs=lambda w: {"street": w.street.code},
        get=403,
        post=403,
        post_data=lambda w: {"name": "湖北省孝感市", "active_from": "2020-01-23"},
    ),
    "screening:risk_area_end": Route(kwargs=_risk_area, get=405, post=403),
    "tasks:inbox": Route(get=a1(viewer=403, other=200)),
    "tasks:team": Route(get=403),
    "tasks:task": Route(kwargs=_a1_task, get=a1(viewer=404)),
    "tasks:task_visit": Route(kwargs=_a1_task, get=405, post=a1(302, viewer=404), post_data=READING),
    "tasks:task_done": Route(
        kwargs=_a1_task, get=405, post=a1(302, viewer=404), post_data=lambda w: {"note": "已电话联系"}
    ),
    "tasks:task_new": Route(
        kwargs=RESIDENT,
        get=a1(viewer=403),
        post=a1(302, viewer=403),
        post_data=lambda w: {"kind": "call", "note": "电话问候"},
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
    "passes:list": Route(),  # each sees the passes of her own grid
    "passes:detail": Route(kwargs=_a1_pass, get=a1()),  # the QR code only to those who may issue it
    "passes:revoke": Route(kwargs=_a1_pass, get=405, post=a1(302, viewer=403), post_data=lambda w: {"reason": "遗失"}),
    "passes:issue": Route(
        kwargs=RESIDENT, get=a1(viewer=403), post=a1(302, viewer=403), post_data=lambda w: {"kind": "outing"}
    ),
    "passes:requests": Route(get=a1(viewer=403, other=200)),  # each worker decides her own grid's requests
    "passes:request_decide": Route(
        kwargs=lambda w: {"code": _a1_request(w).code},
        get=405,
        post=a1(302, viewer=404),
        post_data=lambda w: {"action": "decline", f"{_a1_request(w).code}-note": "请到社区办理"},
    ),
    "passes:sheet": Route(
        kwargs=BUILDING, get=a1(viewer=403), post=a1(302, viewer=403), post_data=lambda w: {"kind": "outing"}
    ),
    "passes:sheet_job": Route(kwargs=_cards_job, get=a1(viewer=403)),  # a sheet is its requester's
    "passes:sheet_download": Route(kwargs=_cards_job, get=a1(viewer=403)),
    "passes:mine": Route(get=302, post=302, writes=False),  # no household code entered
    "status:map": Route(kwargs=COMMUNITY),  # each sees her own grid's cells (test_map.py)
    "status:map_print": Route(kwargs=COMMUNITY, post=302, post_data=lambda w: {"paper": "A3"}),
    "status:map_print_job": Route(kwargs=A1_MAP_PRINT, get=a1(viewer=404)),  # a print is its requester's
    "status:map_print_file": Route(kwargs=A1_MAP_PRINT, get=a1(viewer=404)),
    "status:street_map": Route(kwargs=lambda w: {"street": w.street.code}),
    # The gate app is for those who guard the gate: no grid-level persona does.
    "gates:app": Route(kwargs=GATE, get=404),
    "gates:manifest": Route(kwargs=GATE, get=404),
    "gates:service_worker": Route(),
    # Gate duty is for who guards a gate or builds its community: no grid-level persona reaches a gate.
    "duty:gates": Route(get=403),
    "duty:gate": Route(kwargs=GATE, get=404),
    "duty:shift_add": Route(kwargs=GATE, get=405, post=404, post_data=SHIFT_FORM),
    "duty:rotation": Route(kwargs=GATE, get=405, post=404, post_data=lambda w: {"guards": [w.grid_worker.code]}),
    "duty:shift_remove": Route(kwargs=_gate_shift, get=405, post=404),
    "duty:handover": Route(kwargs=_gate_shift, get=405, post=404, post_data=lambda w: {"note": "交班"}),
    "duty:pass_scans": Route(kwargs=_a1_pass, get=a1()),
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
        if model._meta.app_label in {"places", "people", "accounts", "audit", "status", "tasks", "gates"}:
            state[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return state


def personal_markers(world: World) -> list[str]:
    resident = world.resident_a1
    return [resident.name, resident.id_number_masked, resident.phone_masked, resident.code]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Routes that write files (printed maps) write them under a fresh data directory."""
    settings.DATA_DIR = tmp_path / "data"


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
            # A refused write changes nothing (a read-only POST may only add its own audit events,
            # and a wrong code or password its count against the limits).
            for counted in ("audit.AuditEvent", "audit.AuditHead", "accounts.RateCount"):
                after.pop(counted), before.pop(counted)
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
            *PUBLIC,
        }:
            continue
        response = client.get(reverse(name, kwargs=route.kwargs(world)))
        assert response.status_code in {302, 401, 405}, name
        for marker in personal_markers(world):
            assert marker not in response.content.decode(), name


def test_anonymous_users_open_the_public_pages_and_see_no_resident(world, client):
    for name in sorted(PUBLIC):
        response = client.get(reverse(name, kwargs=ROUTES[name].kwargs(world)))
        assert response.status_code == 200, name
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
