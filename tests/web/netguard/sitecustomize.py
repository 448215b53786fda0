"""Loaded by the server process under test (PYTHONPATH): logs every outbound connection attempt.

Every ``socket.connect``/``connect_ex`` to an address that is not loopback, and every name
lookup of a host that is not local, is appended to ``$MUTUALFUSE_NETLOG``; the browser test
asserts the file stays empty (no analytics, no version check, no CDN, no hub).
"""
import ipaddress
import os
import socket

_LOG = os.environ.get("MUTUALFUSE_NETLOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "", None}


def _record(what: str) -> None:
    with open(_LOG, "a", encoding="utf-8") as f:
        f.write(what + "\n")


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


if _LOG:
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _record(f"connect {address!r}")
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            _record(f"connect_ex {address!r}")
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kw):
        if not _is_local(host):
            _record(f"getaddrinfo {host!r}")
        return _getaddrinfo(host, *args, **kw)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
