"""Browser tests: JupyterLab in headless Chromium, driven by Playwright, the way a user sees it.

Each test starts its own ``realtime-nb serve`` (a free 127.0.0.1 port, a known token, a fresh data
dir) and its own JupyterLab on a temporary copy of ``notebooks/`` (no token, 127.0.0.1 only), whose
kernels find the server through ``REALTIME_NB_URL`` and ``REALTIME_NB_TOKEN``. Every process is
started in its own session and killed with its whole tree at teardown, also on failure.

These tests run only under ``make e2e`` (which sets ``REALTIME_NB_E2E=1``) or when ``tests/e2e``
is named on the pytest command line: ``make unit`` runs ``pytest tests``, which must not need a
browser, Playwright or JupyterLab. Screenshots, console and process logs go to ``artifacts/e2e/``;
a test passes only on what it checked in the DOM.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parents[1]
ARTIFACTS = REPO / "artifacts" / "e2e"
FIXTURE_NOTEBOOKS = E2E_DIR / "notebooks"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("REALTIME_NB_CHROMIUM", "/usr/bin/chromium")
# As the machine notes say: without the background-networking flags Chromium keeps trying to
# reach Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "e2e-token-0123456789"


PLUGINS = ("pitch_detection", "player_detection", "ball_detection")
"""The quickstart's pipeline, which both browser tests run."""
TIMING = re.compile(r"^(\d+(\.\d+)? (ms|s)|\d+ min \d\d s)$")
"""A duration as the inspector prints it (format_duration_ms)."""


def collapse(values: list[Any]) -> list[Any]:
    """The values in order, each run of equal neighbours collapsed to one."""
    out: list[Any] = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out


# Console messages of type "error" that are allowed. Empty on purpose: with the settings the
# `jupyter_lab` fixture writes (no news, no update check) JupyterLab 4 logs no error on these
# pages. Add an exact message here only with the reason it cannot be avoided.
ALLOWED_CONSOLE_ERRORS: tuple[str, ...] = ()


def _enabled(config: pytest.Config) -> bool:
    if os.environ.get("REALTIME_NB_E2E") == "1":
        return True
    root = Path(str(config.invocation_params.dir))
    for arg in config.invocation_params.args:
        if arg.startswith("-"):
            continue
        path = (root / arg.split("::", 1)[0]).resolve()
        if path == E2E_DIR or E2E_DIR in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave tests/e2e out of ``pytest tests`` (``make unit``) unless asked for explicitly."""
    inside = collection_path == E2E_DIR or E2E_DIR in collection_path.parents
    if inside and collection_path.name != "conftest.py" and not _enabled(config):
        return True
    return None


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stat(pid: int | str) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a process, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[19])


def _descendants(pid: int) -> list[tuple[int, int]]:
    """Every live descendant of ``pid`` as (pid, start time): kernels run in their own sessions,
    so killing the process group would miss them."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in Path("/proc").iterdir():
        stat = _stat(entry.name) if entry.name.isdigit() else None
        if stat is not None:
            children.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found: list[tuple[int, int]] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


@dataclass
class ManagedProcess:
    """A subprocess in its own session, logging to a file, stopped with its whole tree."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    def start(self) -> ManagedProcess:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop())
        self._log.write(f"$ {' '.join(self.argv)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Send ``sig`` to the process group, wait, then SIGKILL whatever is left of the tree."""
        proc = self.proc
        if proc is None:
            return None
        tree = _descendants(proc.pid) if proc.poll() is None else []
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        for pid, started in tree:
            stat = _stat(pid)
            if stat is not None and stat[1] == started:  # still that process, not a reused pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        self.proc = None
        return proc.returncode


def wait_http(url: str, process: ManagedProcess, timeout: float) -> None:
    """Wait until ``url`` answers 200; fail early, with the log, if the process died."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if not process.running:
            pytest.fail(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(
        f"{process.name}: {url} not ready within {timeout} s ({last}):\n{process.log_tail()}"
    )


@dataclass
class RealtimeServer:
    """``realtime-nb serve`` on a fixed port, token and data dir, which can be restarted."""

    port: int
    data_dir: Path
    log_path: Path
    token: str = TOKEN
    process: ManagedProcess | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> None:
        assert self.process is None or not self.process.running, "already running"
        self.starts += 1
        argv = [str(BIN / "realtime-nb"), "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--token", self.token]
        # Ping every second: the badge shows the measured latency, as a user would see it.
        argv += ["--data-dir", str(self.data_dir), "--ping-interval", "1", *extra]
        self.process = ManagedProcess(
            f"realtime-nb serve #{self.starts}", argv, self.log_path, cwd=self.data_dir.parent
        )
        self.process.start()
        wait_http(f"{self.url}/v1/health", self.process, timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        code = self.process.stop(sig)
        self.process = None
        return code


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/e2e/, emptied once per run so every file in it is from this run."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
def test_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"^test_", "", request.node.name)


@pytest.fixture
def realtime_server(tmp_path: Path, artifacts: Path, test_name: str) -> Iterator[RealtimeServer]:
    server = RealtimeServer(
        port=free_port(),
        data_dir=tmp_path / "realtime-data",
        log_path=artifacts / f"{test_name}-realtime-server.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- JupyterLab -----------------------------------------------------------------------------------

_LAB_SETTINGS = {
    # No "would you like news?" toast over the page, and no request to the internet for news or
    # updates (this network is closed; it would only add noise).
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # Every cell in the DOM, so what the test reads is what the notebook holds.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class JupyterLab:
    url: str
    root: Path
    process: ManagedProcess


@pytest.fixture
def jupyter_lab(
    tmp_path: Path, artifacts: Path, test_name: str, realtime_server: RealtimeServer
) -> Iterator[JupyterLab]:
    """JupyterLab on a copy of notebooks/ plus tests/e2e/notebooks/, attached to the server."""
    root = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for nb in FIXTURE_NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, root / nb.name)
    home = tmp_path / "jupyter"
    for name, value in _LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env = dict(os.environ)
    env.update(
        REALTIME_NB_URL=realtime_server.url,
        REALTIME_NB_TOKEN=realtime_server.token,
        REALTIME_NB_DATA_DIR=str(tmp_path / "embedded-data"),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("JUPYTER_TOKEN", None)
    port = free_port()
    argv = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
    ]
    log = artifacts / f"{test_name}-jupyterlab.log"
    process = ManagedProcess("jupyter lab", argv, log, env, cwd=tmp_path)
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/api/status", process, timeout=90)
        yield JupyterLab(url, root, process)
    finally:
        process.stop()


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make e2e` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleLog:
    """Everything the page printed to its console, and every uncaught page error."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if e not in ALLOWED_CONSOLE_ERRORS]


# In-page monitor: 20 times a second, reads every RealtimeOverlay in the notebook's outputs and
# appends a snapshot to window.__rnb.timeline whenever anything it shows changed. Sampling in the
# page itself catches states that last a fraction of a second (a 3-second job, a brief
# "Reconnecting…"), which polling from Python would miss.
_MONITOR_JS = r"""
() => {
  if (window.__rnb) return;
  const hashes = new Map();
  const canvas = document.createElement('canvas');
  function imageHash(img) {
    if (!img || !img.src || !img.complete || !img.naturalWidth) return null;
    if (hashes.has(img.src)) return hashes.get(img.src);
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d', {willReadFrequently: true});
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 0x01000193); }
    const out = (h >>> 0).toString(16).padStart(8, '0');
    hashes.set(img.src, out);
    return out;
  }
  const text = (el) => (el ? el.innerText.trim() : null);
  function overlays() {
    return Array.from(document.querySelectorAll('.jp-OutputArea-output > .widget-vbox'))
      .filter((v) => v.querySelector('.widget-hprogress'));
  }
  function snapshot(ov) {
    const header = ov.children[0];
    const bar = ov.querySelector('.widget-hprogress .progress-bar');
    const img = ov.querySelector('img.widget-image');
    const rows = Array.from(ov.querySelectorAll('table tr')).slice(1)
      .map((tr) => Array.from(tr.children).map((td) => td.innerText.trim()));
    return {
      title: text(header && header.querySelector(':scope > .widget-html .widget-html-content')),
      badge: text(header && header.querySelector(':scope > .widget-hbox .widget-html-content')),
      error: ov.children[1] && ov.children[1].style.display !== 'none' ? text(ov.children[1]) : '',
      progress: bar ? parseFloat(bar.style.width) : null,
      barClass: bar ? bar.className : null,
      label: text(ov.querySelector('.widget-hprogress + .widget-html .widget-html-content')),
      imageVisible: !!img && img.offsetWidth > 0,
      imageWidth: img ? img.naturalWidth : 0,
      imageHeight: img ? img.naturalHeight : 0,
      imageHash: imageHash(img),
      caption: text(ov.querySelector('img.widget-image + .widget-html .widget-html-content')),
      rows,
    };
  }
  const state = {timeline: [], last: []};
  window.__rnb = state;
  state.latest = (i) => { const ov = overlays()[i]; return ov ? snapshot(ov) : null; };
  setInterval(() => {
    overlays().forEach((ov, i) => {
      const s = snapshot(ov);
      const key = JSON.stringify(s);
      if (key !== state.last[i] && state.timeline.length < 20000) {
        state.last[i] = key;
        state.timeline.push(Object.assign({t: performance.now(), overlay: i}, s));
      }
    });
  }, 50);
}
"""

# Text that only shows when a widget was not rendered: its text/plain fallback, or JupyterLab's
# and ipywidgets' own failure messages.
_PLAIN_WIDGET_RE = re.compile(
    r"(RealtimeOverlay|HBox|VBox|Box|FloatProgress|IntProgress|HTML|Image|Button|Label)\(|"
    r"Error displaying widget|Loading widget|model not found|Failed to display"
)


class NotebookPage:
    """One notebook open in JupyterLab in the browser, with the helpers the tests need."""

    def __init__(self, page: Any, lab: JupyterLab, shots: Path, prefix: str) -> None:
        self.page = page
        self.lab = lab
        self.shots = shots
        self.prefix = prefix
        self.screenshots: list[Path] = []

    def screenshot(self, step: str, element: str | None = None) -> Path:
        path = self.shots / f"{self.prefix}-{len(self.screenshots) + 1:02d}-{step}.png"
        if element is None:
            self.page.screenshot(path=str(path))
        else:
            self.page.locator(element).first.screenshot(path=str(path))
        self.screenshots.append(path)
        return path

    def open(self, notebook: str) -> None:
        self.page.goto(f"{self.lab.url}/lab/tree/{notebook}")
        self.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
        self.wait_kernel_idle(90_000)
        self.page.evaluate(_MONITOR_JS)

    def wait_kernel_idle(self, timeout_ms: float) -> None:
        self.page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))
                 .some((e) => / \\| Idle$/.test(e.textContent.trim()))""",
            timeout=timeout_ms,
        )

    def run_all(self) -> None:
        """Run, then Run All Cells: through the menu as a person would."""
        self.page.locator(
            "#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")
        ).click()
        self.page.locator(
            ".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")
        ).first.click()

    def wait_all_cells_ran(self, timeout_ms: float) -> None:
        """Every code cell has an execution count (none pending or queued), kernel idle."""
        self.page.wait_for_function(
            """() => {
                const prompts = Array.from(
                  document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
                return prompts.length > 0 && prompts.every((p) => /^\\[\\d+\\]:$/.test(
                  p.textContent.trim()));
            }""",
            timeout=timeout_ms,
        )
        self.wait_kernel_idle(timeout_ms)

    def latest(self, index: int = 0) -> dict[str, Any] | None:
        snap: dict[str, Any] | None = self.page.evaluate("(i) => window.__rnb.latest(i)", index)
        return snap

    def timeline(self, index: int = 0) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.page.evaluate(
            "(i) => window.__rnb.timeline.filter((s) => s.overlay === i)", index
        )
        return rows

    def wait_overlay(self, predicate_js: str, timeout_ms: float, index: int = 0) -> dict[str, Any]:
        """Wait until ``predicate_js`` (a JS expression over ``s``, the overlay snapshot) holds.

        On timeout, fail with what the page showed instead: a widget rendered as text, or the
        overlay's latest snapshot.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                "(i) => { const s = window.__rnb && window.__rnb.latest(i);"
                f" return !!s && ({predicate_js}); }}",
                arg=index,
                timeout=timeout_ms,
            )
        except PlaywrightTimeout:
            self.screenshot("timeout")
            self.assert_no_plain_text_widgets()
            pytest.fail(
                f"overlay {index} never showed `{predicate_js}` within {timeout_ms / 1000:.0f} s;"
                f" it shows {self.latest(index)}"
            )
        snap = self.latest(index)
        assert snap is not None
        return snap

    def overlay_count(self) -> int:
        count: int = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.jp-OutputArea-output > .widget-vbox'))
                 .filter((v) => v.querySelector('.widget-hprogress')).length"""
        )
        return count

    def output_texts(self) -> list[dict[str, str]]:
        """Every output of every cell: its MIME type and its text."""
        outputs: list[dict[str, str]] = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.jp-OutputArea-output')).map((o) => ({
                 mime: o.getAttribute('data-mime-type') || '',
                 text: o.innerText,
                 widgets: o.querySelectorAll('.jupyter-widgets').length,
               }))"""
        )
        return outputs

    def assert_no_plain_text_widgets(self) -> None:
        """No widget shows as its text/plain fallback or as a widget error message."""
        for out in self.output_texts():
            if out["mime"] in ("text/plain", "application/vnd.jupyter.stderr", ""):
                match = _PLAIN_WIDGET_RE.search(out["text"])
                assert match is None, f"a widget rendered as text: {out['text'][:300]!r}"

    def assert_no_error_outputs(self, allow_stderr: bool = False) -> None:
        for out in self.output_texts():
            if out["mime"] == "application/vnd.jupyter.stderr":
                assert "Traceback" not in out["text"], out["text"]
                assert allow_stderr, f"unexpected stderr output: {out['text'][:500]!r}"


@pytest.fixture
def notebook_page(
    browser: Any, jupyter_lab: JupyterLab, artifacts: Path, test_name: str
) -> Iterator[tuple[NotebookPage, ConsoleLog]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console = ConsoleLog()

    def on_console(msg: Any) -> None:
        line = f"[{msg.type}] {msg.text}"
        loc = msg.location or {}
        if loc.get("url"):
            line += f"  ({loc['url']}:{loc.get('lineNumber')})"
        console.messages.append(line)
        if msg.type == "error":
            console.errors.append(msg.text)

    def on_page_error(exc: Any) -> None:
        console.messages.append(f"[pageerror] {exc}")
        console.errors.append(f"pageerror: {exc}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("crash", lambda _page: console.errors.append("page crashed"))
    nb = NotebookPage(page, jupyter_lab, artifacts, test_name)
    try:
        yield nb, console
    finally:
        try:
            if nb.page.evaluate("() => !!window.__rnb"):
                timeline = nb.page.evaluate("() => window.__rnb.timeline")
                (artifacts / f"{test_name}-timeline.json").write_text(
                    json.dumps(timeline, indent=1)
                )
        except Exception as exc:  # the page may be gone; the log below still gets written
            console.messages.append(f"[e2e] could not read the timeline: {exc}")
        (artifacts / f"{test_name}-console.log").write_text("\n".join(console.messages) + "\n")
        context.close()
