"""API v1: one NinjaAPI, each app adds its router (``<app>/api.py``)."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="FirstLine API", version="1", urls_namespace="api")
