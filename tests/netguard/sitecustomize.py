"""A network witness for the fault probe (tests/fault_probe.py): imported by every Python
process it starts (PYTHONPATH), it appends to ``$OGI_NETGUARD_LOG`` one JSON line per
connection, datagram or name lookup a process attempts that is not over a unix socket.
It only records; the network namespace makes every such attempt fail anyway."""
import json
import os
import sys

_LOG = os.environ.get("OGI_NETGUARD_LOG")


def _hook(event, args):
    if event not in ("socket.connect", "socket.sendto", "socket.getaddrinfo", "socket.gethostbyname",
                     "socket.gethostbyaddr", "socket.getnameinfo"):
        return
    try:
        if event in ("socket.connect", "socket.sendto"):
            sock, address = args[0], args[-1]
            if getattr(sock, "family", None) == getattr(__import__("socket"), "AF_UNIX", 1):
                return
            what = address
        else:
            what = args[0]
        line = json.dumps({"event": event, "target": repr(what), "pid": os.getpid(), "argv": sys.argv[:3]})
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except Exception:  # a witness must never break what it watches
        pass


if _LOG:
    sys.addaudithook(_hook)
