"""The rules at a community's gates: the deployment's defaults (settings.GATES), a community's overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache

from firstline.gates.models import GateRules


@dataclass(frozen=True)
class GateRuleSet:
    outing_people: int  # people of one household who may go out in each period
    outing_every_days: int
    outing_hours: int  # out longer than this is overdue
    list_max_age_hours: int  # a gate phone's revocation list older than this is refused

    @property
    def outing_period(self) -> timedelta:
        return timedelta(days=self.outing_every_days)

    @property
    def outing_length(self) -> timedelta:
        return timedelta(hours=self.outing_hours)

    @property
    def list_max_age(self) -> timedelta:
        return timedelta(hours=self.list_max_age_hours)


RULES_CACHE_SECONDS = 60


def rules_cache_key(community_id: int) -> str:
    return f"gates:rules:{community_id}"


def gate_rules_for(community_id: int) -> GateRuleSet:
    """The community's rules, kept a minute in the cache: a change of its ``GateRules`` applies within it."""
    defaults = {name: int(settings.GATES[name]) for name in GateRuleSet.__dataclass_fields__}
    key = rules_cache_key(community_id)
    cached = cache.get(key)
    if cached is not None and cached[0] == defaults:  # settings changed (tests override them): read again
        return cached[1]
    own = GateRules.objects.filter(community_id=community_id).first()
    rules = dict(defaults)
    if own is not None:
        for name in rules:
            value = getattr(own, name)
            if value:
                rules[name] = value
    ruleset = GateRuleSet(**rules)
    cache.set(key, (defaults, ruleset), RULES_CACHE_SECONDS)
    return ruleset
