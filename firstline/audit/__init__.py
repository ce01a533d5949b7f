"""Audit: one append-only, hash-chained log of who looked at or changed what (R17).

Every login, full-record read, unmask, export, change and grant is one
``AuditEvent``: who (user and role), what (action and the record's public code),
why (reason), when and from where — never the personal values themselves.
Each row's ``digest`` is an HMAC over its content and the previous row's digest,
and ``AuditHead`` holds the newest digest and the row count, so editing,
deleting or truncating rows is found by ``firstline audit verify``. Rows are
written only through ``firstline.audit.log.record``.
"""
