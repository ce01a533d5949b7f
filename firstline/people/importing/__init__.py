"""Ledger import (R3): lists as they arrive — hotel transfer lists, returnee lists, rail-ticket lists,
gate sheets, the community's own 台账 — read into the ledger without retyping.

Two layers. Parsing (``reader`` → ``columns`` → ``normalise`` → ``parse``) is pure: it
reads ``.xlsx``/``.xls``/``.ods``/``.csv``, finds the header row below any title
rows, maps headers to canonical fields and normalises every cell, reporting
problems per original Excel row with ID numbers and phones masked. Its one entry
point is ``parse.read_sheet``; the formats it accepts are in ``docs/import-formats.md``.
Applying parsed rows to the database is the engine's job, through the actions.
"""
