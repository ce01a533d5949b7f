"""People: the resident ledger (台账, R2) — residents of households, and their movements.

A resident belongs to one household and carries the ids of its street,
community, grid and building, so the one scoping filter applies directly.
ID numbers and phones are sealed (``firstline.sealing``): encrypted, indexed by
HMAC for exact search, and stored masked for display. Every change is an action
in ``actions.py`` that writes a ``ResidentVersion`` (what changed, who, why) and
an audit event; nothing is overwritten without history (R17).
"""
