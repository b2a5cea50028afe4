"""Notebook 05's eigenvalue explorer, for real, in headless Debian chromium (playwright).

JupyterLab: starts it on a free loopback port in a temporary copy of notebooks/, opens
05-eigenvalues.ipynb, runs all cells, moves every slider of the explorer with the keyboard (each
matrix kind in turn, so every slider is enabled once), clicks every activation and picks every
preset, and checks that the plot image changed each time, that no error output appeared, that the
widget keeps its height and that it is no wider than its output area (no horizontal scrollbar).
Voila: serves apps/explorer.ipynb (`make explorer`), checks that the page loads with no code shown,
that picking a preset redraws the image and that no traceback shows. An exception in a
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
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rnnlib.plots.explorer import DESCRIPTIONS, SLIDERS
from rnnlib.spectra import PRESETS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "05-eigenvalues.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Slider descriptions and preset names of the explorer (rnnlib.plots.explorer, rnnlib.spectra).
SLIDER_NAMES = [DESCRIPTIONS[name] for name in SLIDERS]
PRESET_NAMES = list(PRESETS)
# Set RNNLIB_SCREENSHOTS=folder to keep a screenshot of each page for a look by eye.
SCREENSHOTS = Path(os.environ["RNNLIB_SCREENSHOTS"]) if os.environ.get("RNNLIB_SCREENSHOTS") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}?token={token}", method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait_until_up(answers, server, log_path, what: str, timeout: float = 60.0) -> None:
    """Poll answers() (it returns when the server answers, raises OSError while it does not) until it
    answers; fail with the end of the server's log if the server exits or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answers()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)


def _stop(server, log) -> None:
    """SIGTERM, then SIGKILL after 15 s; close the log."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


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
        _wait_until_up(lambda: _api(base, token, "/api/status"), server, tmp_path / "lab.log", "JupyterLab")
        yield base, token
    finally:
        try:
            for session in _api(base, token, "/api/sessions") or []:
                _api(base, token, f"/api/sessions/{session['id']}", method="DELETE")  # shuts its kernel down
        except OSError:
            pass
        _stop(server, log)


def _wait_for_change(read, before, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = read()
        if now is not None and now != before:
            return now
        time.sleep(0.05)
    return None


def _no_callback_error(page, scope: str, after: str):
    """The explorer writes "error: ..." under its image when a callback raised: there must be none."""
    page.wait_for_timeout(300)  # the HTML lines are sent right after the image
    errors = page.locator(f"{scope} .widget-html", has_text="error:")
    assert errors.count() == 0, f"after {after}, the explorer's callback raised:\n" + "\n".join(errors.all_inner_texts())


def _redraws(page, scope: str, image, action, what: str):
    """Run action() and wait until the explorer's image changes; fail with `what` if it does not."""
    errors = page.locator(f"{scope} .widget-html", has_text="error:")
    src = image.get_attribute("src")
    action()
    new_src = _wait_for_change(lambda: "error" if errors.count() else image.get_attribute("src"), src)
    _no_callback_error(page, scope, what)
    assert new_src is not None, f"{what} did not redraw the plot"


def _choose_preset(page, scope: str, image, name: str):
    menu = page.locator(f"{scope} .widget-dropdown", has=page.locator(".widget-label", has_text="preset")).locator("select")
    _redraws(page, scope, image, lambda: menu.select_option(label=name), f"the preset '{name}'")


def test_explorer_sliders_and_presets_redraw_in_jupyterlab(lab, chromium_path):
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
            page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                state="attached", timeout=60_000)  # and it is this notebook's kernel

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()

            image = page.locator(f"{PANEL} .jp-OutputArea-output img.widget-image")
            # "attached", not "visible": JupyterLab's default windowing (CSS content-visibility)
            # skips rendering cells outside the viewport while Run All scrolls past them.
            image.wait_for(state="attached", timeout=60_000)
            # Run-all is done when the last code cell has printed its self-check line.
            page.locator(f"{PANEL} .jp-OutputArea-output", has_text="not attempted yet").nth(2).wait_for(
                state="attached", timeout=90_000)
            image.scroll_into_view_if_needed()
            image.wait_for(timeout=60_000)
            explorer = page.locator(f"{PANEL} .jp-OutputArea-output", has=page.locator("img.widget-image"))
            box = explorer.bounding_box()

            def move(slider):
                readout = slider.locator(".widget-readout")
                value = readout.inner_text()

                def press():
                    slider.locator(".noUi-handle").focus()
                    page.keyboard.press("ArrowLeft" if slider_at_max(slider) else "ArrowRight")

                name = slider.locator(".widget-label").inner_text()
                _redraws(page, PANEL, image, press, f"moving '{name}'")
                assert readout.inner_text() != value, f"'{name}' did not move"

            def slider_at_max(slider):
                return slider.locator(".noUi-handle").get_attribute("aria-valuenow") == slider.locator(
                    ".noUi-handle").get_attribute("aria-valuemax")

            def enabled_sliders():
                sliders = page.locator(f"{PANEL} .widget-slider")
                return [sliders.nth(i) for i in range(sliders.count())
                        if "mod-disabled" not in (sliders.nth(i).get_attribute("class") or "")
                        and sliders.nth(i).locator(".noUi-target[disabled]").count() == 0]

            moved = set()
            for kind in ("2×2, real λ₁, λ₂", "2×2, complex r·e^(±iθ)", "random H×H, ρ = |λ₁|"):
                menu = page.locator(f"{PANEL} .widget-dropdown", has=page.locator(".widget-label", has_text="W_hh"))
                if kind != "2×2, real λ₁, λ₂":
                    _redraws(page, PANEL, image, lambda: menu.locator("select").select_option(label=kind),
                             f"choosing {kind}")
                for slider in enabled_sliders():
                    name = slider.locator(".widget-label").inner_text()
                    if name in moved:
                        continue
                    move(slider)
                    moved.add(name)
            assert moved >= set(SLIDER_NAMES), f"not every slider was enabled and moved: {set(SLIDER_NAMES) - moved}"
            for f in ("tanh", "sigmoid", "relu", "linear"):
                button = page.locator(f"{PANEL} .widget-toggle-button", has_text=f).first
                _redraws(page, PANEL, image, button.click, f"choosing f = {f}")
            for name in PRESET_NAMES:
                _choose_preset(page, PANEL, image, name)
                assert explorer.bounding_box()["height"] == pytest.approx(box["height"], abs=2), (
                    f"the widget's height changed with the preset '{name}'")

            overflow = explorer.evaluate("e => e.scrollWidth - e.clientWidth")
            assert overflow <= 0, f"the explorer is {overflow} px wider than its output area (a horizontal scrollbar)"
            errors = page.locator(
                f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
            )
            assert errors.count() == 0, "error output in the notebook:\n" + "\n".join(errors.all_inner_texts())
            if SCREENSHOTS:
                explorer.screenshot(path=str(SCREENSHOTS / "explorer-jupyterlab.png"))
        finally:
            browser.close()


@pytest.fixture
def voila_app(tmp_path):
    """The standalone explorer app (apps/explorer.ipynb) served by Voila on a free loopback port: yields its URL."""
    pytest.importorskip("voila", reason="voila is not installed (requirements.txt pins it)")
    port = _free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"))
    cmd = [sys.executable, "-m", "voila", str(REPO / "apps" / "explorer.ipynb"), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1"]
    log = open(tmp_path / "voila.log", "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}/"
    def answers():
        try:
            urllib.request.urlopen(url + "api/status", timeout=5).close()
        except urllib.error.HTTPError:
            pass  # an HTTP error is an answer: the server is up

    try:
        _wait_until_up(answers, server, tmp_path / "voila.log", "Voila")
        yield url
    finally:
        _stop(server, log)


def test_explorer_app_in_voila(voila_app, chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(voila_app)
            image = page.locator("img.widget-image").first
            image.wait_for(timeout=90_000)
            assert "eigenvalue_explorer(" not in page.locator("body").inner_text(), "no code is shown"
            _choose_preset(page, "body", image, "tanh: mode-locked cycle")
            _choose_preset(page, "body", image, "non-normal transient")
            text = page.locator("body").inner_text()
            assert "Traceback" not in text and "Error" not in text, "the app shows an error:\n" + text[-2000:]
            if SCREENSHOTS:
                page.screenshot(path=str(SCREENSHOTS / "explorer-voila.png"))
        finally:
            browser.close()
