"""云踏勘: a mobile inspector joins a live session by a one-time link.

The reviewer of a live session that has a case linked creates an invitation
(`POST /api/inspections`, server/inspection_api.py). Its token is shown once
(QR code, short link, SMS text) and kept only as its SHA-256. The token:

- must be opened within `inspection.token_minutes` (else `expired`);
- is bound to its case: an upload for another case is refused (`other_case`);
- is used by one phone at a time: a second device while the first is connected
  is refused (`in_use`); the same device comes back at any time, and after a
  dropped connection within the session's rejoin grace it rejoins the session;
- ends with the inspection: the inspector leaves, is lost past the grace, or the
  session ends (`ended`); a later use is refused.

Every use and refusal is audited: in the session's chain while it runs, in the
system log otherwise. The phone's identity is `inspector:<inspection id>`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.auth import Identity
from server.config import Config
from server.connections import Connection, Connections
from server.geo import bearing_deg, distance_m
from server.inspection_model import (
    CAPTURE_FAILED,
    FORGET_AFTER_S,
    MAX_ACCURACY_M,
    MAX_CLOCK_SKEW_MS,
    REFUSALS,
    TOKEN_PREFIX,
    Inspection,
    InspectionRefused,
    token_hash,
    words,
)
from server.recorder import SessionRecorder
from server.session_manager import SessionManager
from server.video_session import INSPECTOR, Participant, State, VideoSession
from signaling.errors import CloseCode, ErrorCode, ProtocolError
from signaling.messages import (
    InspectCapture,
    InspectCaptureFailed,
    InspectFailed,
    InspectFix,
    InspectInfo,
    InspectJoin,
    InspectPosition,
    InspectTake,
    Message,
    error,
)

if TYPE_CHECKING:
    from server.cluster.inspect_share import InspectionShare

log = logging.getLogger(__name__)


class Inspections:
    def __init__(
        self,
        cfg: Config,
        sessions: SessionManager,
        connections: Connections,
        recorder: SessionRecorder,
        points_for: Callable[[str], tuple[str, ...]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.sessions = sessions
        self.connections = connections
        self.recorder = recorder
        self.points_for = points_for  # the catalogue's inspection points of an item
        self.clock = clock
        self._by_hash: dict[str, Inspection] = {}
        self._by_id: dict[str, Inspection] = {}
        # With several processes (server/cluster/): the record the others see.
        self.shared: InspectionShare | None = None
        sessions.on_removed.append(self._removed)
        sessions.ended_listeners.append(self._session_ended)

    # -- audit ----------------------------------------------------------------
    def audit(self, insp: Inspection | None, type_: str, actor: str | None, data: dict) -> None:
        """Into the session's chain while it runs, else the system log."""
        session = self.session_of(insp) if insp is not None else None
        if insp is not None:
            data = {"inspection": insp.id, "case": insp.case, **data}
        if session is not None:
            self.recorder.event(session, type_, actor, data)
        else:
            self.recorder.system(type_, actor, data)

    def session_of(self, insp: Inspection) -> VideoSession | None:
        session = self.sessions.of(insp.reviewer)
        if session is None or session.id != insp.session_id or session.state == State.ENDED:
            return None
        return session

    async def _publish(self, insp: Inspection) -> None:
        if self.shared is not None:
            await self.shared.publish(insp)

    async def _device(self, insp: Inspection) -> str | None:
        """The phone holding the link (any process may have admitted it)."""
        if self.shared is not None:
            return await self.shared.device(insp.id) or insp.device
        return insp.device

    async def _connected(self, holder: str, but: Connection | None = None) -> bool:
        """Whether the holder has a socket (here but `but`, or on another process)."""
        if [c for c in self.connections.local(holder) if c is not but]:
            return True
        return self.shared is not None and await self.shared.connected_elsewhere(holder)

    # -- invitation -------------------------------------------------------------
    async def create(
        self, reviewer: Identity, session: VideoSession, case: str, name: str
    ) -> tuple[Inspection, str]:
        """A new invitation for `case` linked to `session`; returns it and its token."""
        if case not in session.cases:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"case {case!r} is not linked to the session")
        for old in self.of_session(session.id):
            if old.state == "joined":
                raise ProtocolError(ErrorCode.WRONG_STATE, "an inspector is already in the session")
            await self._end(old, "replaced")
        token = TOKEN_PREFIX + secrets.token_urlsafe(24)
        now = self.clock()
        self._prune(now)
        linked = session.cases[case]
        insp = Inspection(
            id="insp-" + secrets.token_hex(5),
            token_sha256=token_hash(token),
            case=case,
            item=linked.item,
            points=self.points_for(linked.item),
            session_id=session.id,
            reviewer=reviewer.holder,
            by=reviewer.subject,
            name=name,
            created_at=now,
            expires_at=now + self.cfg.inspection.token_minutes * 60,
        )
        self._by_hash[insp.token_sha256] = insp
        self._by_id[insp.id] = insp
        self.audit(insp, "inspection.invited", reviewer.subject, {"expires_at": insp.expires_at})
        await self._publish(insp)
        return insp, token

    def of_session(self, session_id: str) -> list[Inspection]:
        return [
            i for i in self._by_id.values() if i.session_id == session_id and i.state != "ended"
        ]

    def _prune(self, now: float) -> None:
        """Forget inspections ended or unopened for a day (their tokens are then `unknown`)."""
        for insp in list(self._by_id.values()):
            stale = insp.state == "ended" or (insp.state == "open" and now > insp.expires_at)
            if stale and now - insp.created_at > FORGET_AFTER_S:
                self._by_id.pop(insp.id, None)
                self._by_hash.pop(insp.token_sha256, None)

    def cases_open(self, case: str) -> list[Inspection]:
        return [i for i in self._by_id.values() if i.case == case and i.state != "ended"]

    def get(self, inspection_id: str) -> Inspection | None:
        return self._by_id.get(inspection_id)

    # -- the token's rules -----------------------------------------------------
    async def check(self, token: str, device: str | None = None) -> Inspection:
        """The inspection of `token` when it may be used now; InspectionRefused otherwise."""
        insp = self._by_hash.get(token_hash(token)) if token.startswith(TOKEN_PREFIX) else None
        if insp is None:
            raise InspectionRefused("unknown")
        if insp.state != "ended" and self.session_of(insp) is None:
            await self._end(insp, "session_ended")
        if insp.state == "ended":
            raise InspectionRefused("ended")
        if insp.state == "open" and self.clock() > insp.expires_at:
            raise InspectionRefused("expired")
        holding = await self._device(insp)
        if device and holding and device != holding and await self._connected(insp.holder):
            raise InspectionRefused("in_use")
        return insp

    async def remote_record(self, token: str) -> dict[str, Any] | None:
        """Another process's inspection of `token` (None: here, or none at all)."""
        if self.shared is None or not token.startswith(TOKEN_PREFIX):
            return None
        if token_hash(token) in self._by_hash:
            return None
        return await self.shared.by_hash(token_hash(token))

    async def check_remote(self, record: dict[str, Any] | None, device: str | None) -> None:
        """The token's rules on a process that does not hold its inspection."""
        assert self.shared is not None
        code = await self.shared.refusal(record, self.clock())
        if code is not None:
            raise InspectionRefused(code)
        assert record is not None
        holding = await self.shared.device(record["id"])
        holder = f"{INSPECTOR}:{record['id']}"
        if device and holding and device != holding and await self._connected(holder):
            raise InspectionRefused("in_use")

    def refused(self, token: str, code: str, where: str, ip: str | None) -> None:
        """Audit a refusal (the token itself is never written down)."""
        insp = self._by_hash.get(token_hash(token))
        data = {"reason": code, "where": where, "ip": ip}
        self.audit(insp, "inspection.refused", None, data)
        log.info("inspection refused", extra={"reason": code, "where": where})

    async def identify(self, token: str) -> Identity | None:
        """For the authenticator: the phone's identity while its token holds (a
        refused token is audited: an upgrade or upload after the end, say). With
        several processes a token of another process's inspection is checked
        against its record in the store."""
        try:
            record = await self.remote_record(token)
            if record is None:
                return (await self.check(token)).identity()
            await self.check_remote(record, None)
            name = record.get("name") or "踏勘人员"
            return Identity(subject=record["id"], role=INSPECTOR, name=name)
        except InspectionRefused as exc:
            self.refused(token, exc.code, "credentials", None)
            return None

    async def problem(self, ident: Identity) -> str | None:
        """For the socket guard: why an inspector's socket must close, or None."""
        insp = self._by_id.get(ident.subject)
        if insp is None and self.shared is not None:
            record = await self.shared.by_id(ident.subject)
            if await self.shared.refusal(record, self.clock()) in (None, "expired"):
                return None  # expiry counts at the link's opening only
            return "inspection ended"
        if insp is None or insp.state == "ended":
            return "inspection ended"
        return None

    async def admit_socket(self, conn: Connection, device: str) -> bool:
        """One phone at a time: the same device takes over its old socket; another
        device is refused while the first is connected. Audited both ways."""
        insp = self._by_id.get(conn.ident.subject)
        if insp is None and self.shared is not None:
            return await self._admit_remote(conn, device)
        if insp is None:
            return False
        holding = await self._device(insp)
        if holding and device != holding and await self._connected(insp.holder, conn):
            self.audit(insp, "inspection.refused", None, {"reason": "in_use", "where": "ws"})
            await self._refuse_socket(conn)
            return False
        await self._take_over(conn)
        if holding != device:
            self.audit(insp, "inspection.device", None, {"device": device[:16]})
        insp.device = device
        if self.shared is not None:
            await self.shared.set_device(insp.id, device)
        return True

    async def _admit_remote(self, conn: Connection, device: str) -> bool:
        """admit_socket for an inspection held by another process (audited here)."""
        assert self.shared is not None
        ident = conn.ident
        holding = await self.shared.device(ident.subject)
        data = {"inspection": ident.subject}
        if holding and device != holding and await self._connected(ident.holder, conn):
            refusal = {**data, "reason": "in_use", "where": "ws"}
            self.recorder.system("inspection.refused", None, refusal)
            await self._refuse_socket(conn)
            return False
        await self._take_over(conn)
        if holding != device:
            self.recorder.system("inspection.device", None, {**data, "device": device[:16]})
        await self.shared.set_device(ident.subject, device)
        return True

    async def _refuse_socket(self, conn: Connection) -> None:
        zh, en = REFUSALS["in_use"]
        await conn.send(error(ErrorCode.FORBIDDEN, f"{zh} {en}", "inspect.join"))
        await conn.close(CloseCode.REPLACED, "in use on another phone")

    async def _take_over(self, conn: Connection) -> None:
        """The same phone again: its older sockets here close."""
        for old in [c for c in self.connections.local(conn.ident.holder) if c is not conn]:
            await old.close(CloseCode.REPLACED, "replaced by a newer connection")

    # -- in the session ----------------------------------------------------------
    async def join(self, ident: Identity, msg: InspectJoin) -> None:
        insp = self._live(ident, msg.type)
        if not msg.recording_notice_accepted:
            raise ProtocolError(
                ErrorCode.WRONG_STATE, "accept the recording notice before joining", msg.type
            )
        session = self.session_of(insp)
        assert session is not None  # _live checked it
        insp.accepted_at = self.clock()
        insp.camera = msg.camera
        self.audit(insp, "inspection.notice_accepted", ident.holder, {})
        if session.participant(ident.holder) is None:
            await self.sessions.add_participant(session, ident, INSPECTOR, insp.by)
            insp.state = "joined"
            self.audit(insp, "inspection.joined", ident.holder, {"name": insp.name})
            await self._publish(insp)
        else:  # back within the rejoin grace (the socket's opening re-announced the session)
            self.audit(insp, "inspection.rejoined", ident.holder, {})
        await self.connections.to_holder(
            ident.holder,
            InspectInfo(
                inspection_id=insp.id,
                case=insp.case,
                item=insp.item,
                points=list(insp.points),
                stills_every_s=self.cfg.inspection.stills_every_seconds,
            ),
        )

    def _live(self, ident: Identity, ref: str) -> Inspection:
        insp = self._by_id.get(ident.subject)
        if insp is None or insp.state == "ended" or self.session_of(insp) is None:
            raise ProtocolError(ErrorCode.WRONG_STATE, "the inspection has ended", ref)
        return insp

    async def position(self, ident: Identity, msg: InspectPosition) -> dict[str, Any]:
        """Check a fix (absurd values refused), keep it, show it to the desk."""
        insp = self._live(ident, msg.type)
        if insp.state != "joined":
            raise ProtocolError(ErrorCode.WRONG_STATE, "join the session first", msg.type)
        if abs(msg.lat) > 90:
            raise ProtocolError(ErrorCode.BAD_FIELD, "lat must be between -90 and 90", msg.type)
        if abs(msg.lon) > 180:
            raise ProtocolError(ErrorCode.BAD_FIELD, "lon must be between -180 and 180", msg.type)
        if not 0 <= msg.accuracy <= MAX_ACCURACY_M:
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"accuracy must be 0 to {MAX_ACCURACY_M:.0f} metres", msg.type
            )
        now = self.clock()
        if abs(msg.time - now * 1000) > MAX_CLOCK_SKEW_MS:
            raise ProtocolError(
                ErrorCode.BAD_FIELD, "time is more than a day from the server's clock", msg.type
            )
        fix: dict[str, Any] = {
            "lat": msg.lat,
            "lon": msg.lon,
            "accuracy": msg.accuracy,
            "time": msg.time,
            "server_time": now,
        }
        prev = insp.last_fix
        if prev is not None:
            fix["distance_m"] = round(distance_m(prev["lat"], prev["lon"], msg.lat, msg.lon), 1)
            fix["bearing_deg"] = round(bearing_deg(prev["lat"], prev["lon"], msg.lat, msg.lon), 1)
        insp.last_fix = fix
        self.audit(insp, "inspection.position", ident.holder, {"fix": fix})
        await self.tell_desks(insp, InspectFix(inspection_id=insp.id, fix=fix))
        return fix

    async def tell_desks(self, insp: Inspection, message: Message) -> None:
        """Everyone in the session but the applicant (the reviewer, colleagues, the phone)."""
        session = self.session_of(insp)
        if session is None:
            return
        for p in session.participants:
            if p is not session.applicant:
                await self.connections.to_holder(p.holder, message)

    def _for_sender(self, ident: Identity, ref: str) -> Inspection:
        if ident.role == INSPECTOR:
            insp = self._live(ident, ref)
        else:
            session = self.sessions.of(ident.holder)
            if session is None or session.reviewer.holder != ident.holder:
                raise ProtocolError(ErrorCode.FORBIDDEN, "only the session's reviewer", ref)
            joined = [i for i in self.of_session(session.id) if i.state == "joined"]
            if not joined:
                raise ProtocolError(ErrorCode.WRONG_STATE, "no inspector in the session", ref)
            insp = joined[0]
        if insp.state != "joined":
            raise ProtocolError(ErrorCode.WRONG_STATE, "join the session first", ref)
        return insp

    async def capture(self, ident: Identity, msg: InspectCapture) -> str:
        """Ask the phone for a still (`inspect.take`); a phone without a camera is
        answered at once, in plain words, to the reviewer."""
        insp = self._for_sender(ident, msg.type)
        if msg.point and msg.point not in insp.points:
            raise ProtocolError(
                ErrorCode.BAD_FIELD, f"{msg.point!r} is not a point of this inspection", msg.type
            )
        request_id = secrets.token_hex(6)
        by = "inspector" if ident.role == INSPECTOR else "reviewer"
        insp.pending[request_id] = {"point": msg.point, "by": by, "at": self.clock()}
        self.audit(insp, "evidence.requested", ident.holder, {"request": request_id, "by": by})
        if self._participant(insp) is None or not insp.camera:
            await self._failed(insp, request_id, "no_camera")
            return request_id
        await self.connections.to_holder(
            insp.holder, InspectTake(request_id=request_id, point=msg.point, by=by)
        )
        return request_id

    def _participant(self, insp: Inspection) -> Participant | None:
        session = self.session_of(insp)
        return session.participant(insp.holder) if session else None

    async def failed(self, ident: Identity, msg: InspectFailed) -> None:
        insp = self._live(ident, msg.type)
        if msg.request_id not in insp.pending:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such capture request", msg.type)
        await self._failed(insp, msg.request_id, msg.reason_code)

    async def _failed(self, insp: Inspection, request_id: str, reason: str) -> None:
        insp.pending.pop(request_id, None)
        self.audit(insp, "evidence.failed", insp.holder, {"request": request_id, "reason": reason})
        session = self.session_of(insp)
        if session is None:
            return
        await self.connections.to_holder(
            session.reviewer.holder,
            InspectCaptureFailed(
                request_id=request_id,
                reason_code=reason,  # type: ignore[arg-type]
                notice=words(CAPTURE_FAILED, reason),
            ),
        )

    # -- ending ---------------------------------------------------------------------
    async def _end(self, insp: Inspection, reason: str) -> None:
        if insp.state == "ended":
            return
        self.audit(insp, "inspection.ended", None, {"reason": reason})
        insp.state = "ended"
        insp.pending.clear()
        await self._publish(insp)

    async def _removed(self, session: VideoSession, participant: Participant, reason: str) -> None:
        insp = self._by_id.get(participant.subject) if participant.role == INSPECTOR else None
        if insp is not None:
            await self._end(insp, reason)  # its socket closes at the guard's next check

    async def _session_ended(self, session: VideoSession) -> None:
        for insp in [i for i in self._by_id.values() if i.session_id == session.id]:
            # The chain is still open here (recorder.close follows the listeners).
            if insp.state != "ended":
                self.recorder.event(
                    session, "inspection.ended", None, {"inspection": insp.id, "reason": "session"}
                )
                insp.state = "ended"
                insp.pending.clear()
                await self._publish(insp)
