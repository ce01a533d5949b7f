"""Roles and their capabilities: the fixed table of *what*; memberships give *where*.

Capabilities:
- ``view_ledger``: see households and residents (masked) in scope
- ``edit_ledger``: create and correct ledger records in scope
- ``unmask``: reveal a full ID number or phone, with a reason (audited)
- ``search_exact``: find a resident by a full ID number or phone (audited, rate-limited); read-only
  roles lack it, since with a mask a search confirms a guess
- ``view_aggregates``: see counts and reports, no personal records
- ``manage_places``: build the hierarchy below the membership's place
- ``grant``: give temporary grants inside the membership's place
- ``record_health``: record check-ins, visits and temperatures of residents in scope
- ``work_tasks``: see and do the tasks of the place (the task inbox)
- ``guard_gate``: check passes and record scans at a gate (sync its keys and revocation list)
- ``manage_rules``: keep the risk-area list and the community's screening rules
- ``approve_exports``: approve or refuse ledger exports that need approval (large or
  unmasked) inside the membership's place; an approver's own exports need none
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_OFFICER = "street_officer", _("street officer")
    COMMUNITY_ADMIN = "community_admin", _("community administrator")
    COMMUNITY_WORKER = "community_worker", _("community worker")
    GRID_LEADER = "grid_leader", _("grid leader")
    GRID_WORKER = "grid_worker", _("grid worker")
    BUILDING_LEADER = "building_leader", _("building leader")
    VOLUNTEER = "volunteer", _("volunteer")
    GATE_GUARD = "gate_guard", _("gate guard")
    PROPERTY_STAFF = "property_staff", _("property management staff")
    DEPARTMENT_LIAISON = "department_liaison", _("department liaison")
    UPPER_LEVEL_VIEWER = "upper_level_viewer", _("upper-level viewer")
    VIEWER = "viewer", _("read-only viewer")


LEDGER_READ = {"view_ledger", "view_aggregates"}
LEDGER_WORK = LEDGER_READ | {"edit_ledger", "unmask", "search_exact", "record_health", "work_tasks"}
HELPER = LEDGER_READ | {"record_health", "work_tasks"}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.STREET_OFFICER: frozenset(
        LEDGER_READ | {"manage_places", "grant", "approve_exports", "work_tasks", "manage_rules"}
    ),
    Role.COMMUNITY_ADMIN: frozenset(
        LEDGER_WORK | {"manage_places", "grant", "approve_exports", "manage_rules", "guard_gate"}
    ),
    Role.COMMUNITY_WORKER: frozenset(LEDGER_WORK | {"guard_gate"}),
    Role.GRID_LEADER: frozenset(LEDGER_WORK),
    Role.GRID_WORKER: frozenset(LEDGER_WORK),
    Role.BUILDING_LEADER: frozenset(HELPER),
    Role.VOLUNTEER: frozenset(HELPER),
    Role.GATE_GUARD: frozenset({"guard_gate"}),
    Role.PROPERTY_STAFF: frozenset(LEDGER_READ),
    Role.DEPARTMENT_LIAISON: frozenset(),
    Role.UPPER_LEVEL_VIEWER: frozenset({"view_aggregates"}),
    Role.VIEWER: frozenset(LEDGER_READ),
}

# The place levels each role may be bound to.
LEVELS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    Role.STREET_OFFICER: ("street",),
    Role.COMMUNITY_ADMIN: ("community",),
    Role.COMMUNITY_WORKER: ("community", "grid"),
    Role.GRID_LEADER: ("grid",),
    Role.GRID_WORKER: ("grid",),
    Role.BUILDING_LEADER: ("building",),
    Role.VOLUNTEER: ("community", "grid", "building"),
    Role.GATE_GUARD: ("gate",),
    Role.PROPERTY_STAFF: ("community",),
    Role.DEPARTMENT_LIAISON: ("street", "community"),
    Role.UPPER_LEVEL_VIEWER: ("street", "community"),
    Role.VIEWER: ("street", "community", "grid", "building"),
}


def role_can(role: str, capability: str) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())
