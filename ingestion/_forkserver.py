"""Imported by the fork server of our worker pools (a ``multiprocessing`` preload module).

The fork server is started by the process that opens the first pool (``ogi run``, a
Dagster run worker, a script: the *owner*), in a fresh folder of the system's temporary
directory (``pymp-*``) that holds its socket.  The owner removes that folder when it
exits; when it is killed (``kill -9``), nobody does.  The fork server outlives its owner
by a moment (until the last worker has exited, see :mod:`ingestion.workers`): at its exit
it removes the folder of an owner that is gone.
"""
from __future__ import annotations

import atexit
import os
import shutil

#: The process that started this fork server.
OWNER = os.getppid()


def _remove_owner_temp_dir() -> None:
    if os.getppid() == OWNER:
        return  # the owner is alive and removes its folder itself
    from multiprocessing import forkserver

    address = getattr(forkserver._forkserver, "_forkserver_address", None)
    if not isinstance(address, str):
        return
    folder = os.path.dirname(address)
    if os.path.basename(folder).startswith("pymp-"):
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_owner_temp_dir)
