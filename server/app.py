"""The application factory: wires config, store, services and routes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.engine import make_url

from recording.canonical import make_dirs
from server import (
    account_api,
    admin_api,
    approval_api,
    approval_pages,
    archive_routes,
    audit_api,
    case_api,
    case_documents_api,
    case_pages,
    case_sessions_api,
    followups_api,
    inbox_api,
    inspection_api,
    ops_routes,
    pages,
    points_api,
    public_catalogue,
    ratings_api,
    stats_routes,
    supervision_routes,
    village_api,
)
from server import appkeys as K
from server.accounts import AccountDB
from server.api import routes as api_routes
from server.auth import Authenticator, allow
from server.case_push import CasePush
from server.catalogue import Catalogue, load_catalogue
from server.cluster import Cluster
from server.config import Config
from server.connections import Connections
from server.data_dir import private_umask, secure_data_dir
from server.doc_capture import DocCameraService
from server.evidence import EvidenceService
from server.inspection import Inspections
from server.login_audit import RefusalAggregator
from server.logs import scrub_third_party_loggers
from server.media.hub import MediaHub
from server.metrics import Metrics
from server.middleware import MIDDLEWARES
from server.party import Invites
from server.queue_service import QueueService
from server.recorder import SessionRecorder
from server.recordings import RecordingIndex
from server.register.approvals import ApprovalService
from server.register.calendar import load_calendar
from server.register.cases import CaseService
from server.register.convenience import ConvenienceService
from server.register.documents import DocumentService
from server.register.followups import FollowUpService
from server.register.legacy import Migrated
from server.register.points_ledger import LedgerService
from server.register.points_rules import load_rules
from server.register.points_statement import StatementService
from server.register.ratings import RateCodes, RatingService
from server.register.reseal import reseal_cases
from server.register.sealing import IdSealer
from server.register.spot_checks import SpotCheckService
from server.register.startup import MIGRATED_EVENT, open_register
from server.register.verify_codes import VerifyCodes
from server.scrape import sample_own
from server.session_manager import SessionManager
from server.session_observers import SessionObservers
from server.socket_guard import CredentialGuard, busy_holders
from server.store import MemoryStore, Store, make_store
from server.store.redis_store import RedisStore
from server.supervision import Supervision
from server.ws import ws_handler

log = logging.getLogger(__name__)
_MIGRATED = web.AppKey("accounts_migrated", Migrated | None)
SWEEP_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 24 * 3600


def create_app(
    cfg: Config,
    *,
    store: Store | None = None,
    catalogue: Catalogue | None = None,
    redis_url: str | None = None,
) -> web.Application:
    """Build the application; services start in the cleanup context."""
    scrub_third_party_loggers()
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=1024**2)
    app[K.CONFIG] = cfg
    make_dirs(cfg.data_dir)
    app[K.STORE] = store or make_store(
        cfg.store, redis_url, data_dir=cfg.data_dir, restart_grace=cfg.queue.grace_seconds
    )
    app[K.CATALOGUE] = catalogue or load_catalogue()
    calendar = load_calendar(cfg.cases.holidays or None)
    # Opened here, before the loop runs (tools seed accounts right after create_app).
    app[K.REGISTER], migrated = open_register(cfg)
    app[_MIGRATED] = migrated
    app[K.ACCOUNTS] = AccountDB(app[K.REGISTER], policy=cfg.password)
    app[K.AUTH] = Authenticator(app[K.STORE], app[K.ACCOUNTS], cfg.auth, cfg.server.secret)
    app[K.METRICS] = Metrics(cfg.server.process_label)
    app[K.TEMPLATES] = pages.make_templates()
    app[K.RECORDER] = SessionRecorder(cfg.data_dir, cfg.archive.cluster_seconds)
    app[K.CASES] = CaseService(
        app[K.REGISTER],
        app[K.CATALOGUE],
        calendar,
        IdSealer.load_or_create(cfg.data_dir),
        app[K.RECORDER].system,
    )
    recorder = app[K.RECORDER]
    app[K.RECORDINGS] = RecordingIndex(
        app[K.REGISTER],
        recorder.root,
        lambda: recorder.signer.public_key if recorder.signer is not None else None,
    )
    recorder.on_sealed.append(app[K.RECORDINGS].add)
    app[K.DOCUMENTS] = DocumentService(
        app[K.CASES], recorder.root, lambda: recorder.signer, cfg.cases.max_document_bytes
    )
    app[K.APPROVALS] = ApprovalService(app[K.DOCUMENTS], VerifyCodes.load_or_create(cfg.data_dir))
    app[K.FOLLOWUPS] = FollowUpService(app[K.CASES], cfg.ratings, recorder.system)
    app[K.RATINGS] = RatingService(
        app[K.CASES],
        app[K.FOLLOWUPS],
        cfg.ratings,
        RateCodes.load_or_create(cfg.data_dir),
        recorder.system,
    )
    app[K.SPOT_CHECKS] = SpotCheckService(
        app[K.REGISTER], app[K.CATALOGUE], cfg.spot_checks, recorder.system
    )
    _village(app, cfg)
    app[K.CONNECTIONS] = Connections(app[K.STORE])
    app[K.CASE_PUSH] = CasePush(app[K.CONNECTIONS])
    app[K.CASES].listeners.append(app[K.CASE_PUSH].on_change)
    app[K.GUARD] = CredentialGuard(
        app[K.AUTH], app[K.ACCOUNTS], app[K.CONNECTIONS], cfg.auth.socket_check_seconds
    )
    app[K.LOGIN_AUDIT] = RefusalAggregator(app[K.RECORDER].system, cfg.auth.audit_aggregate_seconds)
    app[K.QUEUES] = QueueService(
        app[K.STORE], app[K.CATALOGUE], cfg.queue, app[K.CONNECTIONS], app[K.RECORDER].system
    )
    app[K.MEDIA] = MediaHub(
        max_participants=cfg.media.max_participants,
        keyframe_interval_ms=cfg.media.keyframe_interval_ms,
        queue_frames={"video": cfg.media.subscriber_queue_frames},
        silence_s=cfg.media.silence_seconds,
    )
    app[K.SESSIONS] = SessionManager(
        cfg,
        app[K.QUEUES],
        app[K.CONNECTIONS],
        app[K.MEDIA],
        app[K.RECORDER],
        display_name=app[K.ACCOUNTS].display_name,
    )
    app[K.SUPERVISION] = Supervision(
        cfg.supervision,
        app[K.STORE],
        app[K.CATALOGUE],
        app[K.CONNECTIONS],
        app[K.SESSIONS],
        app[K.CASES],
        app[K.FOLLOWUPS],
    )
    app[K.SESSIONS].listeners.append(app[K.SUPERVISION].changed_sessions)
    app[K.OBSERVERS] = SessionObservers(
        cfg.supervision, app[K.SESSIONS], app[K.CONNECTIONS], app[K.RECORDER], app[K.CATALOGUE]
    )
    app[K.CASES].listeners.append(app[K.SUPERVISION].changed_case)
    app[K.FOLLOWUPS].listeners.append(app[K.SUPERVISION].changed)
    app[K.INVITES] = Invites(app[K.SESSIONS], app[K.CONNECTIONS], cfg.media.invite_seconds)
    app[K.DOCCAM] = DocCameraService(app[K.SESSIONS], app[K.CONNECTIONS], app[K.RECORDER])
    catalogue_items = app[K.CATALOGUE].items

    def points_for(item: str) -> tuple[str, ...]:
        found = catalogue_items.get(item)
        return found.inspection_points if found is not None else ()

    app[K.INSPECTIONS] = Inspections(
        cfg, app[K.SESSIONS], app[K.CONNECTIONS], app[K.RECORDER], points_for
    )
    app[K.AUTH].inspector_lookup = app[K.INSPECTIONS].identify
    app[K.GUARD].inspector_problem = app[K.INSPECTIONS].problem
    app[K.EVIDENCE] = EvidenceService(app[K.DOCUMENTS], points_for, cfg.inspection.max_still_bytes)
    if isinstance(app[K.STORE], RedisStore):
        app[K.CLUSTER] = Cluster(app)
        app[K.INSPECTIONS].shared = app[K.CLUSTER].router.inspections
        app[K.GUARD].busy_elsewhere = app[K.CLUSTER].router.pinned_elsewhere
    app.router.add_routes(api_routes)
    app.router.add_routes(admin_api.routes)
    app.router.add_routes(account_api.routes)
    app.router.add_routes(audit_api.routes)
    app.router.add_routes(pages.routes)
    app.router.add_routes(archive_routes.routes)
    app.router.add_routes(case_api.routes)
    app.router.add_routes(case_documents_api.routes)
    app.router.add_routes(case_pages.routes)
    app.router.add_routes(approval_api.routes)
    app.router.add_routes(approval_pages.routes)
    app.router.add_routes(inbox_api.routes)
    app.router.add_routes(case_sessions_api.routes)
    app.router.add_routes(ops_routes.routes)
    app.router.add_routes(stats_routes.routes)
    app.router.add_routes(public_catalogue.routes)
    app.router.add_routes(ratings_api.routes)
    app.router.add_routes(followups_api.routes)
    app.router.add_routes(supervision_routes.routes)
    app.router.add_routes(inspection_api.routes)
    app.router.add_routes(points_api.routes)
    app.router.add_routes(village_api.routes)
    app.router.add_get(
        "/ws", allow("kiosk", "agent", "reviewer", "supervisor", "inspector")(ws_handler)
    )
    app.cleanup_ctx.append(_lifecycle)
    return app


def _village(app: web.Application, cfg: Config) -> None:
    """乡村随身办: the points ledger (awarded when a village case is decided), its
    signed monthly statements and the convenience records."""
    recorder = app[K.RECORDER]
    sealer = IdSealer.load_or_create(cfg.data_dir)
    ledger = LedgerService(
        app[K.REGISTER],
        app[K.CATALOGUE],
        load_rules(cfg.points.rules or None),
        sealer,
        recorder.system,
        grant_max=cfg.points.grant_max,
    )
    app[points_api.LEDGER] = ledger
    app[points_api.STATEMENTS] = StatementService(ledger, lambda: recorder.signer)
    app[village_api.RECORDS] = ConvenienceService(ledger, sealer)
    app[K.CASES].listeners.append(ledger.on_case_change)


def config_summary(cfg: Config) -> dict[str, object]:
    """The configuration in force, for the audit log: secrets are only fingerprinted."""
    summary: dict[str, object] = {}
    for section in dataclasses.fields(cfg):
        value = getattr(cfg, section.name)
        if not dataclasses.is_dataclass(value):
            summary[section.name] = value
            continue
        items = dataclasses.asdict(value)
        for key in ("secret", "turn_secret", "token"):
            if items.get(key):
                items[key] = "sha256:" + hashlib.sha256(items[key].encode()).hexdigest()[:12]
        if section.name == "database" and items.get("url"):
            items["url"] = make_url(items["url"]).render_as_string(hide_password=True)
        summary[section.name] = items
    return summary


async def _sweeper(app: web.Application) -> None:
    """Release queue places whose grace has run out."""
    queues = app[K.QUEUES]
    interval = min(SWEEP_SECONDS, max(0.05, app[K.CONFIG].queue.grace_seconds / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            await queues.sweep()
        except Exception:
            log.exception("grace sweep failed")


async def _housekeeping(app: web.Application) -> None:
    """Daily: remove cases past the retention period (each one audited)."""
    while True:
        try:
            removed = await app[K.RECORDER].prune(app[K.CONFIG].archive.retention_days)
            await asyncio.to_thread(app[K.RECORDINGS].forget, removed)
        except Exception:
            log.exception("retention pruning failed")
        await asyncio.sleep(HOUSEKEEPING_SECONDS)


async def _index_archive(app: web.Application) -> None:
    """Index finalised session folders the register does not know yet (an archive
    from before the index, a restore), once at start, after crash recovery."""
    await app[K.RECORDER].flushed()  # recovered folders are indexed by then
    added = await asyncio.to_thread(app[K.RECORDINGS].backfill)
    if added:
        app[K.RECORDER].system("recordings.indexed", None, {"count": added})


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    private_umask()  # before anything below creates a file
    await asyncio.to_thread(secure_data_dir, app[K.CONFIG].data_dir)
    store = app[K.STORE]
    await store.start()
    await app[K.RECORDER].start()
    await _index_archive(app)
    recorder = app[K.RECORDER]
    assert recorder.signer is not None
    await asyncio.to_thread(
        reseal_cases, app[K.REGISTER], recorder.root, recorder.signer, recorder.system
    )
    awarded = await asyncio.to_thread(app[points_api.LEDGER].reconcile)
    if awarded:
        app[K.RECORDER].system("points.reconciled", None, {"cases": awarded})
    app[K.RECORDER].system("server.started", None, config_summary(app[K.CONFIG]))
    if app[_MIGRATED] is not None:
        app[K.RECORDER].system(MIGRATED_EVENT, None, app[_MIGRATED].to_json())
    if isinstance(store, MemoryStore) and store.restored:
        app[K.RECORDER].system("queue.restored", None, {"places": store.restored})
    await app[K.CONNECTIONS].start()
    cluster = app.get(K.CLUSTER)
    if cluster is not None:
        await cluster.start()
    app[K.SUPERVISION].start()
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(_sweeper(app)), loop.create_task(_housekeeping(app))]
    tasks.append(loop.create_task(app[K.LOGIN_AUDIT].run()))
    tasks.append(loop.create_task(app[K.CASE_PUSH].run()))
    tasks.append(loop.create_task(app[K.GUARD].run(lambda: busy_holders(app[K.SESSIONS]))))
    if app[K.METRICS].multiproc is not None:
        tasks.append(loop.create_task(app[K.METRICS].run_sampler(lambda: sample_own(app))))
    log.info("server started", extra={"store": type(store).__name__})
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    app[K.LOGIN_AUDIT].flush()
    await app[K.SESSIONS].close()
    if cluster is not None:
        await cluster.stop()
    await app[K.SUPERVISION].close()
    await app[K.QUEUES].close()
    await app[K.MEDIA].close()
    await app[K.RECORDER].stop()
    await app[K.CONNECTIONS].close()
    await store.close()
    app[K.REGISTER].close()
