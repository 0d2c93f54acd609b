"""TOTP second factor (RFC 6238, pyotp): enrolment and checking a code.

A code is accepted for the current 30-second step or the one before or after
(clock drift), and each step once per account: a code seen on the wire cannot
be replayed. Enrolment keeps the new secret in the Store until the person
proves their app has it (a code), only then it is saved on the account.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pyotp
import segno

from server.store import Store

STEP = 30
PENDING_SECONDS = 600


class TotpGuard:
    def __init__(self, store: Store, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.issuer = issuer
        self.clock = clock

    async def accept(self, username: str, secret: str, code: str) -> bool:
        """The code matches a step within one of now, and that step was not used yet."""
        if not secret or not code.isdigit() or len(code) != 6:
            return False
        totp = pyotp.TOTP(secret)
        now = self.clock()
        for drift in (0, -1, 1):
            at = now + drift * STEP
            if totp.at(at) == code:
                step = int(at // STEP)
                key = f"totp:last:{username}"
                last = await self.store.kv_get(key)
                if last is not None and int(last) >= step:
                    return False  # replayed (or older than one used)
                await self.store.kv_set(key, str(step), 3 * STEP)
                return True
        return False

    async def start_enrolment(self, username: str) -> tuple[str, str, str]:
        """A new secret kept pending: (secret, otpauth URI, QR code as SVG)."""
        secret = pyotp.random_base32()
        await self.store.kv_set(f"totp:pending:{username}", secret, PENDING_SECONDS)
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=self.issuer)
        out = io.BytesIO()
        segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False)
        return secret, uri, out.getvalue().decode()

    async def finish_enrolment(self, username: str, code: str) -> str | None:
        """The pending secret when the code proves it, else None (still pending)."""
        secret = await self.store.kv_get(f"totp:pending:{username}")
        if secret is None or not await self.accept(username, secret, code):
            return None
        await self.store.kv_delete(f"totp:pending:{username}")
        return secret
