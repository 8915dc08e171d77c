"""A loopback port that nothing listens on (bound once by the OS, then let go):
for a server the test starts there, or for a connection that must be refused."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
