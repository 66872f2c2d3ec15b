"""A real headless browser for the tests: Debian's Chromium, kept off the network.

:func:`open_page` loads a page from the file system with ``--dump-dom`` and returns the DOM
as the browser built it, the console messages, and every network request the page itself
made (from Chromium's net log: requests whose network isolation key is the page's
``file://`` site; the browser's own background requests have other keys and are left out).
Host names resolve to nothing (``--host-resolver-rules``), so even a request the page made
could not leave the machine; the tests assert there was none.

No browser on the machine: :func:`chromium` is ``None`` and the tests that need one skip,
unless ``OGI_REQUIRE_BROWSER`` is set (``.ci/run`` sets it after installing Chromium).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's binary itself first (the /usr/bin wrapper prints noise).
CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "install it with: sudo apt-get install -y chromium fonts-wqy-microhei"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions",
    "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    "--enable-logging=stderr", "--v=0",
)
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")


def chromium() -> str | None:
    """The Chromium binary, or None."""
    for name in CANDIDATES:
        found = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if found:
            return found
    return None


def required() -> bool:
    return bool(os.environ.get("OGI_REQUIRE_BROWSER"))


@dataclass
class Loaded:
    dom: str
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # URLs the page requested over the network


def _page_requests(netlog: Path) -> list[str]:
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    if not text.endswith("}"):  # a log cut short by the browser's exit: close its event list
        text = text.rstrip(",") + "]}"
    data = json.loads(text)
    types = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data.get("events", []):
        params = event.get("params") or {}
        if types.get(event.get("type")) == "URL_REQUEST_START_JOB" and "file://" in params.get(
                "network_isolation_key", ""):
            urls.append(params.get("url", "?"))
    return urls


def open_page(page: Path, timeout: float = 60) -> Loaded:
    """Load ``page`` in headless Chromium: its DOM, console messages and the page's own network requests."""
    binary = chromium()
    if binary is None:
        raise RuntimeError(f"no Chromium found; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="ogi-chromium-") as tmp:
        netlog = Path(tmp) / "netlog.json"
        done = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={tmp}/profile", f"--log-net-log={netlog}", "--dump-dom",
             Path(page).resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
        console = [m.group(1) for m in CONSOLE.finditer(done.stderr)]
        return Loaded(done.stdout, console, _page_requests(netlog))


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 2000, timeout: float = 60) -> Path:
    """A PNG of ``page`` at ``width`` x ``height`` pixels."""
    binary = chromium()
    if binary is None:
        raise RuntimeError(f"no Chromium found; {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="ogi-chromium-") as tmp:
        subprocess.run([binary, *FLAGS, f"--user-data-dir={tmp}/profile", f"--window-size={width},{height}",
                        f"--screenshot={out}", Path(page).resolve().as_uri()],
                       capture_output=True, timeout=timeout, check=True)
    return out
