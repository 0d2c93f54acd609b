"""云踏勘 across processes: an inspection's record in the store, for the others.

An inspection lives in the process that holds its session (the owner): the
rules, the phone's join and every still are handled there. Behind one address
with no sticky routing the phone may open its link on any process, so the
owner publishes what the others need to authenticate it and find the owner:

- `cluster:insp-token:<token sha256>` → the inspection id;
- `cluster:insp:<id>` → {owner, id, case, session_id, name, expires_at, state};
- `cluster:insp-device:<id>` → the device id of the phone that holds the link
  (written by whichever process admitted its socket; a key of its own, so the
  owner's record updates never clobber it).

The keys live as long as the token may be used, and a day more once it is
used or ended, so a late use is refused in words (`expired`, `ended`) rather
than as `unknown`. The token itself is never stored.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from server.cluster.registry import Registry, presence_key

if TYPE_CHECKING:
    from server.inspection_model import Inspection
    from server.store import Store

KEEP_AFTER_S = 24 * 3600.0


def token_key(sha: str) -> str:
    return f"cluster:insp-token:{sha}"


def record_key(inspection_id: str) -> str:
    return f"cluster:insp:{inspection_id}"


def device_key(inspection_id: str) -> str:
    return f"cluster:insp-device:{inspection_id}"


class InspectionShare:
    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    @property
    def me(self) -> str:
        return self.registry.id

    def _ttl(self, insp: Inspection) -> float:
        if insp.state == "open":
            return max(insp.expires_at - time.time(), 1.0) + KEEP_AFTER_S
        return KEEP_AFTER_S

    async def publish(self, insp: Inspection) -> None:
        """The owner's view of the inspection, for the other processes."""
        record = {
            "owner": self.me,
            "id": insp.id,
            "case": insp.case,
            "session_id": insp.session_id,
            "name": insp.name,
            "expires_at": insp.expires_at,
            "state": insp.state,
        }
        ttl = self._ttl(insp)
        await self.store.kv_set(record_key(insp.id), json.dumps(record), ttl=ttl)
        await self.store.kv_set(token_key(insp.token_sha256), insp.id, ttl=ttl)
        if await self.store.kv_get(device_key(insp.id)) is not None:
            await self.store.kv_expire(device_key(insp.id), ttl)

    async def by_id(self, inspection_id: str) -> dict[str, Any] | None:
        raw = await self.store.kv_get(record_key(inspection_id))
        return json.loads(raw) if raw else None

    async def by_hash(self, sha: str) -> dict[str, Any] | None:
        inspection_id = await self.store.kv_get(token_key(sha))
        return await self.by_id(inspection_id) if inspection_id else None

    async def owner(self, record: dict[str, Any] | None) -> str | None:
        """The other live process holding the inspection, or None (here, or gone)."""
        owner = (record or {}).get("owner")
        if not owner or owner == self.me or not await self.registry.alive(owner):
            return None
        return str(owner)

    async def owner_of(self, inspection_id: str) -> str | None:
        return await self.owner(await self.by_id(inspection_id))

    async def refusal(self, record: dict[str, Any] | None, now: float) -> str | None:
        """Why a token of this record may not be used now (a REFUSALS code), or None."""
        if record is None:
            return "unknown"
        if record["state"] == "ended" or await self.owner(record) is None:
            return "ended"  # ended, or its process is gone (and the session with it)
        if record["state"] == "open" and now > float(record["expires_at"]):
            return "expired"
        return None

    async def device(self, inspection_id: str) -> str | None:
        return await self.store.kv_get(device_key(inspection_id))

    async def set_device(self, inspection_id: str, device: str) -> None:
        await self.store.kv_set(device_key(inspection_id), device, ttl=KEEP_AFTER_S)

    async def connected_elsewhere(self, holder: str) -> bool:
        """Whether the holder has a socket on another live process."""
        live, _ = await self.registry.members()
        for info in live:
            if info.id != self.me and holder in await self.store.set_members(presence_key(info.id)):
                return True
        return False
