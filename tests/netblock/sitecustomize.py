"""Network block for tests/test_no_network.py: every Python process started with this folder on
PYTHONPATH imports this module at startup (Python's ``site`` hook).

Any socket use other than AF_UNIX (which asyncio and multiprocessing use between local
processes) raises ``OSError(ENETUNREACH)``, and so does name resolution. Each process writes
"<pid> loaded" and each refused attempt "<pid> <what>" to ``$GRNBENCH_NETBLOCK_LOG``, so the
test can prove the block was in force in every job and that nothing even tried (an attempt
caught and ignored by a library still shows up).
"""

import errno
import os
import socket

_LOG = os.environ.get("GRNBENCH_NETBLOCK_LOG")


def _record(what: str) -> None:
    if _LOG:
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {what}\n")


def _refuse(what: str):
    _record(what)
    return OSError(errno.ENETUNREACH, f"network use blocked by tests/netblock: {what}")


_connect, _connect_ex, _sendto = (
    socket.socket.connect,
    socket.socket.connect_ex,
    socket.socket.sendto,
)


def _local(sock) -> bool:
    return sock.family == getattr(socket, "AF_UNIX", None)


def connect(self, address):
    if _local(self):
        return _connect(self, address)
    raise _refuse(f"connect {address!r}")


def connect_ex(self, address):
    if _local(self):
        return _connect_ex(self, address)
    raise _refuse(f"connect_ex {address!r}")


def sendto(self, *args):
    if _local(self):
        return _sendto(self, *args)
    raise _refuse(f"sendto {args[-1]!r}")


def getaddrinfo(host, *args, **kwargs):
    raise _refuse(f"getaddrinfo {host!r}")


def gethostbyname(host):
    raise _refuse(f"gethostbyname {host!r}")


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.socket.sendto = sendto
socket.getaddrinfo = getaddrinfo
socket.gethostbyname = gethostbyname
_record("loaded")
