"""Typed keys for what the application holds (one place to find them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

if TYPE_CHECKING:
    pass

CONFIG = web.AppKey("config", "Config")
STORE = web.AppKey("store", "Store")
CATALOGUE = web.AppKey("catalogue", "Catalogue")
ACCOUNTS = web.AppKey("accounts", "AccountDB")
REGISTER = web.AppKey("register", "Register")
CASES = web.AppKey("cases", "CaseService")
DOCUMENTS = web.AppKey("documents", "DocumentService")
APPROVALS = web.AppKey("approvals", "ApprovalService")
RATINGS = web.AppKey("ratings", "RatingService")
FOLLOWUPS = web.AppKey("followups", "FollowUpService")
SPOT_CHECKS = web.AppKey("spot_checks", "SpotCheckService")
AUTH = web.AppKey("auth", "Authenticator")
CONNECTIONS = web.AppKey("connections", "Connections")
QUEUES = web.AppKey("queues", "QueueService")
SESSIONS = web.AppKey("sessions", "SessionManager")
INVITES = web.AppKey("invites", "Invites")
MEDIA = web.AppKey("media", "MediaHub")
RECORDER = web.AppKey("recorder", "SessionRecorder")
METRICS = web.AppKey("metrics", "Metrics")
TEMPLATES = web.AppKey("templates", jinja2.Environment)
DOCCAM = web.AppKey("doccam", "DocCameraService")
INSPECTIONS = web.AppKey("inspections", "Inspections")
EVIDENCE = web.AppKey("evidence", "EvidenceService")
GUARD = web.AppKey("guard", "CredentialGuard")
LOGIN_AUDIT = web.AppKey("login_audit", "RefusalAggregator")
CASE_PUSH = web.AppKey("case_push", "CasePush")
RECORDINGS = web.AppKey("recordings", "RecordingIndex")
SUPERVISION = web.AppKey("supervision", "Supervision")
OBSERVERS = web.AppKey("observers", "SessionObservers")
CLUSTER = web.AppKey("cluster", "Cluster")
