"""The demo street: a synthetic, deterministic ledger to try FirstLine on (``firstline demo``).

``plan.make_plan(seed, residents, today)`` is a pure function: it returns the whole
street — places, households, families, ID numbers, phones, movements, logins and
every public code — from one seed, touching no database. ``build.build_demo``
writes a plan in one transaction with bulk inserts, sealing ID numbers and
phones through ``people.actions.seal_fields`` exactly as the ledger actions do.

Everything here is synthetic: names are drawn from common surnames and given-name
characters, ID numbers are random dates and serials with a valid GB 11643 check
digit, phones are random numbers in the 170/171 virtual-operator ranges. None of
it describes a real person.
"""
