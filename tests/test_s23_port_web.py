"""``mutualfuse serve --port N`` on Windows, simulated on Linux (not run there): the check that the
port is free bound a probe socket with SO_REUSEADDR, which on Windows lets a bind take a port
another program of the same user listens on, so a port in use passed the check."""
from __future__ import annotations

import socket

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.web import server

EXCLUSIVE = -5  # Windows' SO_EXCLUSIVEADDRUSE is ~SO_REUSEADDR (-5); this Linux has none


class WindowsSocket:
    """A socket with Windows' bind rules for the two options: with SO_REUSEADDR the bind succeeds
    over another socket's listener; with SO_EXCLUSIVEADDRUSE (or nothing) it fails as on Linux."""

    def __init__(self, family=socket.AF_INET, type=socket.SOCK_STREAM, *a, **k):
        self.real = _REAL(family, type)
        self.opts: set[int] = set()

    def setsockopt(self, level, opt, value):
        assert level == socket.SOL_SOCKET and value == 1
        self.opts.add(opt)  # kept here: Linux knows no SO_EXCLUSIVEADDRUSE

    def bind(self, addr):
        if socket.SO_REUSEADDR in self.opts:
            return  # Windows: bound, the other listener notwithstanding
        self.real.bind(addr)

    def close(self):
        self.real.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_REAL = socket.socket


@pytest.fixture()
def listener():
    s = _REAL(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


def test_port_in_use_refused_with_windows_socket_rules(monkeypatch, listener):
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", EXCLUSIVE, raising=False)
    monkeypatch.setattr(server.socket, "socket", WindowsSocket)
    with pytest.raises(ParameterError, match=rf"^--port {listener}: already in use on 127\.0\.0\.1 "):
        server.listen_port("127.0.0.1", listener)


def test_port_in_use_refused_here(listener):
    with pytest.raises(ParameterError, match=rf"^--port {listener}: already in use"):
        server.listen_port("127.0.0.1", listener)
    s = _REAL(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    assert server.listen_port("127.0.0.1", free) == free
