"""Free ports for the servers the tests start (redis-server, coturn, our own).

A port handed out by ``bind(("127.0.0.1", 0))`` comes from the kernel's
ephemeral range, where the suite's own outgoing connections (Chromium,
aiortc, Redis clients) also take their local ports; a port picked that way
can be taken again before the child process binds it. coturn in particular
retries a busy port forever instead of exiting. So tests pick below the
ephemeral range and check that TCP and, when asked, UDP are both free.
"""

from __future__ import annotations

import random
import socket

_LOW, _HIGH = 20000, 32000  # below Linux's default ephemeral range (32768-60999)


def _bindable(port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, udp: bool = False) -> int:
    """A port on 127.0.0.1 free for TCP (and for UDP when ``udp``)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(_LOW, _HIGH)
        if _bindable(port, socket.SOCK_STREAM) and (not udp or _bindable(port, socket.SOCK_DGRAM)):
            return port
    raise RuntimeError(f"no free port in {_LOW}-{_HIGH}")
