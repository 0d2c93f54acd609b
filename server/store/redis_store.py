"""Redis Store: shared state for several server processes or machines.

Layout (every key starts with the prefix P):
- P t:<id>         hash, one ticket; fields as strings, absent = None, plus the
                   internal `score` (rank as one number: priority*2^40 + seq)
- P holder:<name>  string, the holder's ticket id
- P seq            global join counter (INCR)
- P num:<queue>:<day>  ticket number counter of one queue and day (expires after 2 days)
- P wait:<queue>   zset of waiting tickets by score (disconnected included)
- P ready:<queue>  zset of waiting, connected tickets by score (call_next)
- P grace          zset of waiting, disconnected tickets by grace deadline
- P called         set of called ticket ids
- P call:<token>   the ticket one call_next took (its `call_token` field names the
                   call while it is called), kept 60 s for redis-py's retries of it
- P ht:<queue>     list of handling times, most recent first
- P kv:<key>, P set:<key>, pub/sub channels P ch:<channel>

Every queue mutation is one Lua script, so it is atomic across processes.
Redis restarted (its AOF keeps every acknowledged write, deploy/redis/redis.conf):
commands reconnect through redis-py's pool and retry; the pub/sub reader
reconnects within a second and resubscribes, and then hands each channel's
handlers RESYNC, since messages published meanwhile are lost.
Tickets are hashes rather than JSON because Redis' cjson encodes numbers with
at most 14 significant digits, which would round timestamps.  The scripts
derive ticket keys from ids they read, so this targets standalone Redis (or
a single-shard setup), not Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from server.store.base import RESYNC, MessageHandler, Store, Subscription, Ticket

log = logging.getLogger(__name__)

_PRELUDE = """
local P = ARGV[1]
local function tkey(id) return P .. 't:' .. id end
local function flat(t)
  local out = {}
  for k, v in pairs(t) do out[#out + 1] = k; out[#out + 1] = v end
  return out
end
local function load(id)
  local raw = redis.call('HGETALL', tkey(id))
  if #raw == 0 then return nil end
  local t = {}
  for i = 1, #raw, 2 do t[raw[i]] = raw[i + 1] end
  return t
end
local function unindex(id, t)
  redis.call('ZREM', P .. 'wait:' .. t.queue, id)
  redis.call('ZREM', P .. 'ready:' .. t.queue, id)
  redis.call('ZREM', P .. 'grace', id)
  redis.call('SREM', P .. 'called', id)
end
-- Write an unindexed ticket back; its fields decide which indexes hold it.
local function save(id, t)
  redis.call('DEL', tkey(id))
  redis.call('HSET', tkey(id), unpack(flat(t)))
  if t.state ~= 'waiting' then
    redis.call('SADD', P .. 'called', id)
    return
  end
  redis.call('ZADD', P .. 'wait:' .. t.queue, t.score, id)
  if t.connected == '1' then
    redis.call('ZADD', P .. 'ready:' .. t.queue, t.score, id)
  elseif t.grace_deadline then
    redis.call('ZADD', P .. 'grace', t.grace_deadline, id)
  end
end
local function drop(id, t)
  unindex(id, t)
  redis.call('DEL', tkey(id))
  local hkey = P .. 'holder:' .. t.holder
  if redis.call('GET', hkey) == id then redis.call('DEL', hkey) end
end
"""

# ARGV: P, id, queue, holder, place, priority_class, priority, joined_at,
#       number prefix ('' = no number), day
_ENQUEUE = """
local hkey = P .. 'holder:' .. ARGV[4]
local existing = redis.call('GET', hkey)
local t = existing and load(existing)
if t then return {0, flat(t)} end
local seq = redis.call('INCR', P .. 'seq')
local score = seq + (ARGV[7] == '1' and 0 or 1099511627776)
local number = ''
if ARGV[9] ~= '' then
  local nkey = P .. 'num:' .. ARGV[3] .. ':' .. ARGV[10]
  local n = redis.call('INCR', nkey)
  if n == 1 then redis.call('EXPIRE', nkey, 172800) end
  number = ARGV[9] .. string.format('%03d', n)
end
t = {id = ARGV[2], queue = ARGV[3], holder = ARGV[4], place = ARGV[5],
  priority_class = ARGV[6], priority = ARGV[7], joined_at = ARGV[8],
  seq = string.format('%d', seq), score = string.format('%d', score),
  state = 'waiting', connected = '1', number = number}
save(t.id, t)
redis.call('SET', hkey, t.id)
return {1, flat(t)}
"""

# ARGV: P, id
_LEAVE = """
local t = load(ARGV[2])
if not t then return false end
drop(ARGV[2], t)
return flat(t)
"""

# ARGV: P, id, connected ('1'/'0'), grace deadline ('' = none)
_SET_CONNECTED = """
local id, t = ARGV[2], load(ARGV[2])
if not t then return false end
unindex(id, t)
t.connected, t.grace_deadline = ARGV[3], nil
if ARGV[3] ~= '1' and ARGV[4] ~= '' then t.grace_deadline = ARGV[4] end
save(id, t)
return flat(t)
"""

# ARGV: P, reviewer, session_id, now, call token, queue...
# The token is new for every call_next and the same in redis-py's retries of it:
# a retry after a lost reply (Redis restarted between running the script and
# answering) returns the ticket the first run called, never a second applicant.
_CALL_NEXT = """
local ckey = P .. 'call:' .. ARGV[5]
local done = redis.call('GET', ckey)
if done then
  local t = load(done)
  if t and t.state == 'called' and t.call_token == ARGV[5] then return flat(t) end
  return false
end
while true do
  local best, score, queue = nil, nil, nil
  for i = 6, #ARGV do
    local head = redis.call('ZRANGE', P .. 'ready:' .. ARGV[i], 0, 0, 'WITHSCORES')
    if #head > 0 and (best == nil or tonumber(head[2]) < score) then
      best, score, queue = head[1], tonumber(head[2]), ARGV[i]
    end
  end
  if not best then return false end
  local t = load(best) or {queue = queue}  -- no hash (evicted?): drop the entry
  unindex(best, t)
  if t.id then
    t.state, t.reviewer, t.session_id, t.called_at = 'called', ARGV[2], ARGV[3], ARGV[4]
    t.call_token = ARGV[5]
    save(best, t)
    redis.call('SET', ckey, best, 'EX', 60)
    return flat(t)
  end
end
"""

# ARGV: P, id
_REQUEUE = """
local id, t = ARGV[2], load(ARGV[2])
if not t or t.state ~= 'called' then return false end
unindex(id, t)
t.call_token = nil
t.state, t.reviewer, t.session_id, t.called_at = 'waiting', nil, nil, nil
save(id, t)
return flat(t)
"""

# ARGV: P, now
_EXPIRE_GRACE = """
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'grace', '-inf', ARGV[2])) do
  local t = load(id)
  if t then
    drop(id, t)
    out[#out + 1] = flat(t)
  else
    redis.call('ZREM', P .. 'grace', id)
  end
end
return out
"""

# ARGV: P, 'wait' or 'called', queue.  A consistent snapshot of one index.
_LIST = """
local ids
if ARGV[2] == 'wait' then
  ids = redis.call('ZRANGE', P .. 'wait:' .. ARGV[3], 0, -1)
else
  ids = redis.call('SMEMBERS', P .. 'called')
end
local out = {}
for _, id in ipairs(ids) do out[#out + 1] = flat(load(id) or {}) end
return out
"""

# KEYS: counter; ARGV: ttl ms.  The ttl starts only when the key is created.
_INCR = """
local existed = redis.call('EXISTS', KEYS[1]) == 1
local v = redis.call('INCR', KEYS[1])
if not existed then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
"""

_BOOLS = ("priority", "connected")
_FLOATS = ("joined_at", "grace_deadline", "called_at")


def _ms(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def _num(value: float) -> str:
    return repr(float(value))  # shortest exact form; Redis and Lua parse it back exactly


def _decode(raw: list[str] | None) -> Ticket | None:
    """A ticket from a flat field/value list; absent optional fields are None."""
    if not raw:
        return None
    fields: dict[str, Any] = dict(zip(raw[::2], raw[1::2], strict=True))
    del fields["score"]
    fields.pop("call_token", None)
    fields["seq"] = int(fields["seq"])
    for name in _BOOLS:
        fields[name] = fields[name] == "1"
    for name in _FLOATS:
        if name in fields:
            fields[name] = float(fields[name])
    return Ticket(**fields)


def _decode_rows(rows: list[list[str]]) -> list[Ticket]:
    return [t for t in map(_decode, rows) if t is not None]


@dataclass
class _Channel:
    ready: asyncio.Future[None]
    handlers: list[MessageHandler] = field(default_factory=list)


class _RedisSubscription(Subscription):
    def __init__(self, store: RedisStore, channel: str, handler: MessageHandler) -> None:
        self._store = store
        self._channel = channel
        self._handler = handler
        self._closed = False

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._store._unsubscribe(self._channel, self._handler)


class RedisStore(Store):
    #: how long subscribe() waits for Redis to confirm the subscription
    confirm_timeout = 10.0
    #: /healthz must answer promptly even when Redis hangs
    ping_timeout = 2.0
    #: commands retried on a lost connection (Redis restarting), backoff up to retry_cap s
    retries = 5
    retry_cap = 0.5

    def __init__(self, url: str, prefix: str = "rw:") -> None:
        self._url = url
        self._prefix = prefix
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._channels: dict[str, _Channel] = {}
        # SUBSCRIBE confirmations arrive in command order; one future each.
        self._confirm: dict[str, deque[asyncio.Future[None]]] = {}
        self._sub_lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        # A pooled connection goes stale when Redis restarts: retry on a fresh one
        # (redis-py's default from a URL is no retry at all). About 1.5 s in all,
        # then the caller sees the error (a kiosk gets `internal`, never a place).
        retry = Retry(ExponentialBackoff(cap=self.retry_cap, base=0.05), self.retries)
        client = Redis.from_url(self._url, decode_responses=True, retry=retry)
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            await client.aclose()
            kw = client.connection_pool.connection_kwargs
            where = kw.get("path") or f"{kw.get('host')}:{kw.get('port')}"
            raise ConnectionError(f"Redis store unreachable at {where}: {exc}") from exc
        self._redis = client
        self._pubsub = client.pubsub()
        script = client.register_script
        self._s_enqueue = script(_PRELUDE + _ENQUEUE)
        self._s_leave = script(_PRELUDE + _LEAVE)
        self._s_set_connected = script(_PRELUDE + _SET_CONNECTED)
        self._s_call_next = script(_PRELUDE + _CALL_NEXT)
        self._s_requeue = script(_PRELUDE + _REQUEUE)
        self._s_expire = script(_PRELUDE + _EXPIRE_GRACE)
        self._s_list = script(_PRELUDE + _LIST)
        self._s_incr = script(_INCR)

    async def close(self) -> None:
        tasks = [t for t in (self._reader, *self._pending) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._reader = None
        self._channels.clear()
        for waiters in self._confirm.values():
            for fut in waiters:
                fut.cancel()
        self._confirm.clear()
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def _r(self) -> Redis:
        if self._redis is None:
            raise RuntimeError("RedisStore used before start()")
        return self._redis

    async def ping(self) -> bool:
        if self._redis is None:
            return False
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), self.ping_timeout))
        except (RedisError, OSError, TimeoutError):
            return False

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    # -- queues ------------------------------------------------------------
    async def enqueue(
        self,
        *,
        queue: str,
        holder: str,
        place: str,
        priority_class: str,
        priority: bool,
        now: float,
        number_prefix: str = "",
        day: str = "",
    ) -> tuple[Ticket, bool]:
        args = [self._prefix, secrets.token_urlsafe(12), queue, holder, place]
        args += [priority_class, "1" if priority else "0", _num(now), number_prefix, day]
        created, raw = await self._s_enqueue(keys=[], args=args)
        ticket = _decode(raw)
        assert ticket is not None
        return ticket, bool(created)

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        raw = await self._r.hgetall(self._key("t", ticket_id))
        return _decode([x for kv in raw.items() for x in kv]) if raw else None

    async def ticket_of(self, holder: str) -> Ticket | None:
        tid = await self._r.get(self._key("holder", holder))
        return await self.get_ticket(tid) if tid else None

    async def leave(self, ticket_id: str) -> Ticket | None:
        return _decode(await self._s_leave(keys=[], args=[self._prefix, ticket_id]))

    async def set_connected(
        self, ticket_id: str, connected: bool, grace_deadline: float | None
    ) -> Ticket | None:
        deadline = "" if grace_deadline is None else _num(grace_deadline)
        args = [self._prefix, ticket_id, "1" if connected else "0", deadline]
        return _decode(await self._s_set_connected(keys=[], args=args))

    async def call_next(
        self, queues: list[str], reviewer: str, session_id: str, now: float
    ) -> Ticket | None:
        if not queues:
            return None
        token = secrets.token_urlsafe(9)
        args = [self._prefix, reviewer, session_id, _num(now), token, *dict.fromkeys(queues)]
        return _decode(await self._s_call_next(keys=[], args=args))

    async def requeue(self, ticket_id: str) -> Ticket | None:
        return _decode(await self._s_requeue(keys=[], args=[self._prefix, ticket_id]))

    async def expire_grace(self, now: float) -> list[Ticket]:
        rows = await self._s_expire(keys=[], args=[self._prefix, _num(now)])
        return sorted(_decode_rows(rows), key=lambda t: t.rank)

    async def waiting(self, queue: str) -> list[Ticket]:
        return _decode_rows(await self._s_list(keys=[], args=[self._prefix, "wait", queue]))

    async def called(self) -> list[Ticket]:
        return _decode_rows(await self._s_list(keys=[], args=[self._prefix, "called", ""]))

    # -- handling times ----------------------------------------------------
    async def add_handling_time(self, queue: str, seconds: float, window: int) -> None:
        key = self._key("ht", queue)
        if window <= 0:
            await self._r.delete(key)
            return
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.lpush(key, _num(seconds))
            pipe.ltrim(key, 0, window - 1)
            await pipe.execute()

    async def handling_times(self, queue: str) -> list[float]:
        return [float(v) for v in await self._r.lrange(self._key("ht", queue), 0, -1)]

    # -- key/value ---------------------------------------------------------
    async def kv_get(self, key: str) -> str | None:
        return await self._r.get(self._key("kv", key))

    async def kv_set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._r.set(self._key("kv", key), value, px=_ms(ttl) if ttl else None)

    async def kv_delete(self, key: str) -> None:
        await self._r.delete(self._key("kv", key))

    async def kv_incr(self, key: str, ttl: float) -> int:
        return int(await self._s_incr(keys=[self._key("kv", key)], args=[_ms(ttl)]))

    async def kv_expire(self, key: str, ttl: float) -> bool:
        return bool(await self._r.pexpire(self._key("kv", key), _ms(ttl)))

    async def set_add(self, key: str, member: str, ttl: float) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.sadd(self._key("set", key), member)
            pipe.pexpire(self._key("set", key), _ms(ttl))
            await pipe.execute()

    async def set_remove(self, key: str, member: str) -> None:
        await self._r.srem(self._key("set", key), member)

    async def set_members(self, key: str) -> set[str]:
        return set(await self._r.smembers(self._key("set", key)))

    # -- fan-out -----------------------------------------------------------
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._r.publish(self._key("ch", channel), json.dumps(message))

    async def subscribe(self, channel: str, handler: MessageHandler) -> Subscription:
        """Returns once Redis confirmed the subscription, so a message
        published afterwards (from any process) is delivered."""
        if self._pubsub is None:
            raise RuntimeError("RedisStore used before start()")
        full = self._key("ch", channel)
        async with self._sub_lock:
            entry = self._channels.get(full)
            if entry is None:
                entry = _Channel(asyncio.get_running_loop().create_future())
                waiters = self._confirm.setdefault(full, deque())
                waiters.append(entry.ready)
                try:
                    await self._pubsub.subscribe(full)
                except BaseException:
                    waiters.remove(entry.ready)
                    raise
                self._channels[full] = entry
                if self._reader is None:
                    self._reader = asyncio.get_running_loop().create_task(self._read())
            entry.handlers.append(handler)
        subscription = _RedisSubscription(self, full, handler)
        try:
            await asyncio.wait_for(asyncio.shield(entry.ready), self.confirm_timeout)
        except BaseException:
            await subscription.close()
            raise
        return subscription

    async def _unsubscribe(self, full: str, handler: MessageHandler) -> None:
        async with self._sub_lock:
            entry = self._channels.get(full)
            if entry is None or handler not in entry.handlers:
                return
            entry.handlers.remove(handler)
            if not entry.handlers:
                del self._channels[full]
                if self._pubsub is not None:
                    try:
                        await self._pubsub.unsubscribe(full)
                    except (RedisError, OSError):
                        log.warning("unsubscribe from %s failed", full, exc_info=True)

    async def _read(self) -> None:
        """Single reader of the pub/sub connection; dispatches to handlers."""
        assert self._pubsub is not None
        delay = 0.1
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=None)
            except (RedisError, OSError):
                # redis-py reconnects and resubscribes on the next read.
                log.warning("pub/sub read failed; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.1
            if msg is None:
                continue
            if msg["type"] == "subscribe":
                waiters = self._confirm.get(msg["channel"])
                if waiters:
                    fut = waiters.popleft()
                    if not fut.done():
                        fut.set_result(None)
                    if not waiters:
                        del self._confirm[msg["channel"]]
                else:  # resubscribed after a reconnect: what was published meanwhile is lost
                    log.warning("pub/sub resubscribed to %s", msg["channel"])
                    self._dispatch(msg["channel"], json.dumps(RESYNC))
            elif msg["type"] == "message":
                self._dispatch(msg["channel"], msg["data"])

    def _dispatch(self, full: str, data: str) -> None:
        entry = self._channels.get(full)
        if entry is None:
            return
        try:
            message = json.loads(data)
        except ValueError:
            log.exception("undecodable message on %s", full)
            return
        loop = asyncio.get_running_loop()
        for handler in list(entry.handlers):
            # One task per delivery, as in MemoryStore: a slow handler does
            # not hold up the reader.
            task = loop.create_task(self._deliver(handler, message))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _deliver(handler: MessageHandler, message: dict[str, Any]) -> None:
        try:
            await handler(message)
        except Exception:
            log.exception("subscriber failed")
