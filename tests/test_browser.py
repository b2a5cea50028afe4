"""Notebook 05's eigenvalue explorer, for real: JupyterLab in headless Debian chromium (playwright).

Starts JupyterLab on a free loopback port in a temporary copy of notebooks/, opens
05-eigenvalues.ipynb, runs all cells, moves every slider of the explorer with the keyboard and
checks that the plot image changed each time and that no error output appeared. An exception in a
widget callback never reaches the page as error output (ipykernel logs it on the server), so the
explorer catches it and writes "error: ..." under its image: the test looks for that after each move. Cleans up:
kernels through /api/sessions, then the server by its PID. Recipe: shared/notes/tooling.md.

Needs /usr/bin/chromium (the `chromium_path` fixture of conftest.py skips without it, and fails
under CI=true). Never run `playwright install`: it downloads browsers, which is not wanted here.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rnnlib.spectra import VERDICT_WORDS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "05-eigenvalues.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Slider descriptions in the explorer (rnnlib.explorer), in the order they are moved.
REAL_SLIDERS = ["|λ₁| or r", "|λ₂|", "shear s", "input u", "steps T"]
COMPLEX_SLIDERS = ["θ (deg)"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a temporary copy of the notebooks: yields (base url, token)."""
    root = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp_path / "settings"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # keep inline figures in the kernel
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"))
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _api(base, token, "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.2)
        yield base, token
    finally:
        try:
            for session in _api(base, token, "/api/sessions") or []:
                _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")  # shuts its kernel down
        except OSError:
            pass
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_for_change(read, before, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now is not None and now != before:
            return now
        time.sleep(0.05)
    return None


def test_explorer_sliders_redraw_in_jupyterlab(lab, chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    base, token = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}")
            page.wait_for_selector(f"{PANEL} .jp-Notebook", timeout=60_000)
            status = page.locator(".jp-StatusBar-Widget", has_text="| Idle")
            status.first.wait_for(timeout=60_000)  # the kernel is up

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()

            image = page.locator(f"{PANEL} .jp-OutputArea-output img.widget-image")
            image.wait_for(timeout=60_000)
            # Run-all is done when the last code cell has printed its self-check line.
            page.locator(f"{PANEL} .jp-OutputArea-output", has_text="not attempted yet").nth(2).wait_for(timeout=60_000)

            callback_errors = page.locator(f"{PANEL} .widget-html", has_text="error:")

            def assert_no_callback_error(after):
                page.wait_for_timeout(300)  # the HTML line is sent right after the image
                assert callback_errors.count() == 0, (
                    f"after {after}, the explorer's callback raised:\n" + "\n".join(callback_errors.all_inner_texts()))

            def move(description):
                slider = page.locator(f"{PANEL} .widget-slider", has=page.locator(".widget-label", has_text=description))
                assert slider.count() == 1, f"expected one slider '{description}', found {slider.count()}"
                readout = slider.locator(".widget-readout")
                src, value = image.get_attribute("src"), readout.inner_text()
                slider.locator(".noUi-handle").focus()
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                assert _wait_for_change(readout.inner_text, value) is not None, f"'{description}' did not move"
                new_src = _wait_for_change(
                    lambda: "error" if callback_errors.count() else image.get_attribute("src"), src)
                assert_no_callback_error(f"moving '{description}'")
                assert new_src is not None, f"moving '{description}' did not redraw the plot"

            for description in REAL_SLIDERS:
                move(description)
            page.locator(f"{PANEL} .widget-toggle-button", has_text="complex").click()  # enables θ
            assert_no_callback_error("choosing a complex pair")
            for description in COMPLEX_SLIDERS:
                move(description)
            page.locator(f"{PANEL} .widget-toggle-button", has_text="sigmoid").click()
            assert_no_callback_error("choosing the sigmoid")

            verdict = page.locator(f"{PANEL} .widget-html", has_text="after").first.inner_text()
            assert verdict.split(":")[0] in VERDICT_WORDS, verdict
            errors = page.locator(
                f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
            )
            assert errors.count() == 0, "error output in the notebook:\n" + "\n".join(errors.all_inner_texts())
        finally:
            browser.close()
