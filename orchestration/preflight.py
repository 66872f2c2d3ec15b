"""Checks before anything is built: an inbox that can be read, a home that can be written.

A mistyped ``--inbox`` must not build (and publish) an empty warehouse, nor a run on an
existing home report success having read nothing: ``ogi run`` and ``ogi ui`` stop with a
message and exit status 2, and the ``raw_reports`` asset fails (so a scheduled or sensor
run of the UI stops before anything is built or published).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import paths


class PreflightError(ValueError):
    """An inbox or a home that cannot be used; the message says which and why."""


def check_inbox(inbox: Path) -> None:
    """``inbox`` is a folder this process can list and read."""
    inbox = Path(inbox)
    if not inbox.exists():
        raise PreflightError(f"the inbox {inbox} does not exist")
    if not inbox.is_dir():
        raise PreflightError(f"the inbox {inbox} is not a folder")
    if not os.access(inbox, os.R_OK | os.X_OK):
        raise PreflightError(f"the inbox {inbox} cannot be read (permission denied)")
    try:
        with os.scandir(inbox) as it:
            next(it, None)
    except OSError as exc:
        raise PreflightError(f"the inbox {inbox} cannot be read ({exc.strerror or exc})") from None


def check_home(home: Path) -> None:
    """``home`` is a folder this process can write, or can be created in a folder that exists."""
    home = Path(home)
    if home.exists():
        if not home.is_dir():
            raise PreflightError(f"the home {home} is not a folder")
        if not os.access(home, os.R_OK | os.W_OK | os.X_OK):
            raise PreflightError(f"the home {home} cannot be written (permission denied)")
        return
    parent = home.parent
    if not parent.is_dir():
        raise PreflightError(f"the home {home} cannot be created: {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PreflightError(f"the home {home} cannot be created in {parent} (permission denied)")


def locate(home: Path | None = None, inbox: Path | None = None) -> "paths.Paths":
    """Point this process at ``home`` and ``inbox`` (absolute; the settings when not given) and check both.

    Sets ``OGI_HOME`` and ``OGI_INBOX`` for this process and what it starts; creates nothing.
    """
    from . import paths

    p = paths.point_at(home, inbox)
    check_home(p.home)
    check_inbox(p.inbox)
    return p


def home_paths(home: Path | None = None) -> "paths.Paths":
    """The paths of ``home`` (the setting when not given) for commands that only read it."""
    from . import paths

    return paths.point_at(home)
