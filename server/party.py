"""Bringing more participants into a running session (视频会商).

The session's reviewer invites a colleague by account: a reviewer (joins as
"colleague") or a supervisor (joins as "observer") whose desk is online (in
this process, or in another one of the cluster) and who is in no session.
Their desk rings (`session.invited`) until they answer
(`session.invite_answer`) or `media.invite_seconds` pass; the inviter hears
every outcome in plain words (`session.invite_result`).

An inspector joining by a one-time token uses the same door:
`SessionManager.add_participant(session, ident, "inspector", by)`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.auth import Identity
from server.connections import Connections
from server.session_manager import SessionManager
from server.video_session import COLLEAGUE, OBSERVER, VideoSession
from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import SessionInvited, SessionInviteResult

log = logging.getLogger(__name__)

# Who may be invited, by account role, and as what.
INVITABLE = {"reviewer": COLLEAGUE, "supervisor": OBSERVER}

NOTICES = {
    "ringing": ("正在呼叫{name}…", "Calling {name}…"),
    "accepted": ("{name}已接受邀请，正在加入", "{name} accepted and is joining"),
    "declined": ("{name}谢绝了邀请", "{name} declined the invitation"),
    "timeout": ("{name}未应答", "{name} did not answer"),
    "cancelled": ("邀请已取消", "The invitation was cancelled"),
}


def notice(result: str, name: str) -> dict[str, str]:
    zh, en = NOTICES[result]
    return {"zh": zh.format(name=name), "en": en.format(name=name)}


@dataclass
class Invite:
    id: str
    session: VideoSession
    inviter: Identity
    target: Identity
    party: str
    timer: asyncio.Task[None] | None = None


class Invites:
    def __init__(self, sessions: SessionManager, connections: Connections, ring_s: float) -> None:
        self.sessions = sessions
        self.connections = connections
        self.ring_s = ring_s
        self._pending: dict[str, Invite] = {}
        sessions.ended_listeners.append(self.session_ended)
        # Several processes (server/cluster): a desk online on another process,
        # and awaited with each new invitation's id (its answer is routed here).
        self.find_remote: Callable[[str], Awaitable[Identity | None]] | None = None
        self.on_invite: list[Callable[[str], Awaitable[None]]] = []

    def _target(self, account: str) -> Identity | None:
        for role in INVITABLE:
            conns = self.connections.local(f"{role}:{account}")
            if conns:
                return conns[0].ident
        return None

    async def invite(self, inviter: Identity, account: str) -> Invite:
        session = self.sessions.of(inviter.holder)
        if session is None or session.reviewer.holder != inviter.holder:
            raise ProtocolError(ErrorCode.WRONG_STATE, "only the session's reviewer invites")
        if account == inviter.subject:
            raise ProtocolError(ErrorCode.BAD_FIELD, "you are already in the session")
        target = self._target(account)
        if target is None and self.find_remote is not None:
            target = await self.find_remote(account)
        if target is None:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, f"{account} is not a reviewer or supervisor online now"
            )
        if any(i.target.holder == target.holder for i in self._pending.values()):
            raise ProtocolError(ErrorCode.WRONG_STATE, f"{target.name} is already being called")
        self.sessions.check_can_join(session, target.holder)
        invite = Invite(secrets.token_hex(8), session, inviter, target, INVITABLE[target.role])
        self._pending[invite.id] = invite
        for noted in self.on_invite:
            await noted(invite.id)
        self.sessions.recorder.event(
            session,
            "participant.invited",
            inviter.subject,
            {"account": target.subject, "role": target.role, "party": invite.party},
        )
        await self.connections.to_holder(
            target.holder,
            SessionInvited(
                invite_id=invite.id,
                session_id=session.id,
                item=session.item,
                place=session.place,
                inviter={"name": inviter.name, "place": inviter.place},
                party=invite.party,
                expires_s=round(self.ring_s),
            ),
        )
        await self._tell(invite, "ringing", target_too=False)
        invite.timer = asyncio.get_running_loop().create_task(self._ring(invite))
        return invite

    async def _ring(self, invite: Invite) -> None:
        await asyncio.sleep(self.ring_s)
        if self._pending.pop(invite.id, None) is not None:
            await self._close(invite, "timeout")

    async def answer(self, ident: Identity, invite_id: str, accept: bool) -> None:
        invite = self._pending.get(invite_id)
        if invite is None or invite.target.holder != ident.holder:
            raise ProtocolError(ErrorCode.NOT_FOUND, "no such invitation (it may have expired)")
        del self._pending[invite_id]
        if invite.timer is not None:
            invite.timer.cancel()
        if not accept:
            await self._close(invite, "declined")
            return
        try:
            await self.sessions.add_participant(
                invite.session, ident, invite.party, invite.inviter.subject
            )
        except ProtocolError:
            await self._close(invite, "cancelled")
            raise
        await self._tell(invite, "accepted", target_too=False)

    async def session_ended(self, session: VideoSession) -> None:
        """A session ended: withdraw its invitations still ringing."""
        for invite in [i for i in self._pending.values() if i.session is session]:
            self._pending.pop(invite.id, None)
            if invite.timer is not None:
                invite.timer.cancel()
            await self._close(invite, "cancelled")

    async def _close(self, invite: Invite, result: str) -> None:
        self.sessions.recorder.event(
            invite.session,
            "participant.invite_" + result,
            invite.target.subject,
            {"account": invite.target.subject, "party": invite.party},
        )
        await self._tell(invite, result, target_too=True)

    async def _tell(self, invite: Invite, result: str, *, target_too: bool) -> None:
        message = SessionInviteResult(
            invite_id=invite.id,
            account=invite.target.subject,
            result=result,  # type: ignore[arg-type]
            notice=notice(result, invite.target.name),
        )
        await self.connections.to_holder(invite.inviter.holder, message)
        if target_too:
            await self.connections.to_holder(invite.target.holder, message)
