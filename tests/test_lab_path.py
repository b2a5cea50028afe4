"""The learner's path through `make lab`, for real: JupyterLab in headless Debian chromium (playwright).

In a temporary copy of the repository (its tracked and new files, committed into a fresh git
repository; the project's .venv is linked in, so nothing is installed), runs
`make lab LAB_ARGS="--no-browser --port N"` as README.md says, with HOME pointed at an empty
folder, and checks what a learner meets:

- the address printed on its own line opens 00-contents as the one open document, and no
  notification (the news question) appears over it;
- the contents table's link opens 05; Run All works and a slider of the explorer redraws its plot;
- JupyterLab's autosave (set to 2 s in the project-local user settings, which `make lab` keeps)
  writes the learner's run into my-notebooks/05-eigenvalues.ipynb;
- after Ctrl-C (SIGINT to the process group, as a terminal sends it): `git status` is clean (the
  stored notebooks are unchanged, my-notebooks/ and .lab/ are ignored), the kernels were shut
  down, nothing was written to HOME, the terminal showed no "not trusted" line and no warning, and
  pytest's default collection does not pick up my-notebooks/.

Set LAB_PATH_SCREENSHOTS=DIR to keep the screenshots (first screen, 05 with the explorer) there.
Needs /usr/bin/chromium (the `chromium_path` fixture of conftest.py skips without it, and fails
under CI=true), git and make.
"""

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from test_browser import CHROMIUM_ARGS, PANEL, _free_port

from rnnlib.plots.explorer import DESCRIPTIONS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "05-eigenvalues.ipynb"
AUTOSAVE_SECONDS = 2
URL_LINE = re.compile(r"^http://\S+/lab/tree/00-contents\.ipynb(\?token=\w+)?$")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Generous waits (ms): on a loaded 2-core machine, starting a kernel and running 05 can take minutes.
# Nothing here measures speed.
WAIT = 240_000


def _git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path):
    """A fresh git repository holding the work tree's tracked and new (not ignored) files."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    if not (REPO / ".venv" / ".installed").exists():
        pytest.skip("run `make test` (it sets up .venv) rather than pytest directly")
    root = tmp_path / "repo"
    files = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():  # a tracked file deleted in the work tree is left out
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    # The project's .venv, linked in. Its install stamp must stay newer than the copied
    # requirements.txt and pyproject.toml, or `make lab` would reinstall into it.
    (root / ".venv").symlink_to(REPO / ".venv")
    for name in ("requirements.txt", "pyproject.toml"):
        os.utime(root / name, (0, 0))
    git_id = ["-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    _git(root, "init", "-q")
    _git(root, *git_id, "add", "-A")
    _git(root, *git_id, "commit", "-q", "-m", "copy of the work tree")
    with open(root / ".git" / "info" / "exclude", "a") as f:
        f.write(".venv\n")  # a symlink: the directory pattern `.venv/` of .gitignore does not match it
    return root


class _Terminal:
    """`make lab` in its own process group, its output read line by line in a thread.

    Its stdin is a pseudo-terminal, as in a real terminal: JupyterLab then handles Ctrl-C as it
    does for a learner (the first asks for confirmation, a second one stops the server and shuts
    the kernels down).
    """

    def __init__(self, cmd, cwd, env):
        self.lines = []
        self._pty = pty.openpty()
        self.process = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=self._pty[1], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern, timeout) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if pattern.match(line):
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"`make lab` printed no line matching {pattern.pattern}:\n" + self.text()[-4000:])

    def ctrl_c_twice(self, timeout=120) -> None:
        """Ctrl-C, Ctrl-C: SIGINT twice to the whole process group, as a terminal sends it."""
        for _ in range(2):
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGINT)
                time.sleep(1)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail("`make lab` did not stop on Ctrl-C Ctrl-C:\n" + self.text()[-4000:])
        self._reader.join(timeout=10)
        for fd in self._pty:
            os.close(fd)


def _saved_model_ids(path: Path) -> set:
    nb = json.loads(path.read_text())
    return {out["data"][WIDGET_VIEW]["model_id"] for cell in nb["cells"] for out in cell.get("outputs", [])
            if WIDGET_VIEW in out.get("data", {})}


def _what_the_page_shows(page) -> str:
    """For a failure message: open dialogs, error outputs and the status bar's text."""
    parts = []
    for what, selector in (("dialog", ".jp-Dialog"), ("error output", "[data-mime-type='application/vnd.jupyter.stderr']"),
                           ("notification", ".Toastify__toast"), ("status bar", "#jp-main-statusbar")):
        try:
            texts = page.locator(selector).all_inner_texts()
        except Exception as e:  # noqa: BLE001 - a diagnostic must not hide the failure
            texts = [f"(could not read: {e})"]
        parts += [f"--- {what}: {t.strip()[:1500]}" for t in texts]
    return "\n".join(parts) or "--- no dialog, error output, notification or status bar text"


def test_make_lab_opens_contents_and_keeps_stored_notebooks(clone, tmp_path, chromium_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    shots = Path(os.environ.get("LAB_PATH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    # The test's own setting: autosave every 2 s (JupyterLab's default is 120 s). `make lab`
    # copies its defaults into .lab/user-settings/ only where no file exists, so this one stays.
    docmanager = clone / ".lab" / "user-settings" / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"autosave": True, "autosaveInterval": AUTOSAVE_SECONDS}))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "MPL", "PYTEST"))}
    env["HOME"] = str(home)
    stored_ids = _saved_model_ids(clone / "notebooks" / NOTEBOOK)

    terminal = _Terminal(["make", "lab", f"LAB_ARGS=--no-browser --port {_free_port()}"], clone, env)
    try:
        url = terminal.wait_for_line(URL_LINE, timeout=WAIT / 1000)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.goto(url)
                page.wait_for_selector(f"{PANEL} .jp-Notebook", timeout=WAIT)
                page.locator(f"{PANEL} h1", has_text="Why a vanilla RNN forgets").wait_for(timeout=WAIT)
                page.wait_for_timeout(5000)  # the news question would have appeared by now
                page.screenshot(path=str(shots / "lab-first-screen.png"))
                labels = [t.strip() for t in page.locator("#jp-main-dock-panel .lm-TabBar-tabLabel").all_inner_texts()]
                assert labels == ["00-contents.ipynb"], f"open documents: {labels}"
                current = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").inner_text().strip()
                assert current == "00-contents.ipynb", current
                toasts = page.locator(".Toastify__toast")
                assert toasts.count() == 0, "a notification is shown: " + " | ".join(toasts.all_inner_texts())

                # 00's contents table links to 05 (a relative link inside my-notebooks/).
                page.locator(f"{PANEL} .jp-RenderedMarkdown a", has_text="Eigenvalues: vanishing and exploding").first.click()
                page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current", has_text=NOTEBOOK).wait_for(timeout=WAIT)
                # 05's own kernel is idle (its toolbar's indicator): the status bar can still show
                # 00's idle kernel while 05's session starts, and Run All before 05 has a kernel
                # runs nothing.
                page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(
                    state="attached", timeout=WAIT)
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
                image = page.locator(f"{PANEL} .jp-OutputArea-output img.widget-image")
                # "attached", not "visible": JupyterLab's default windowing (CSS content-visibility)
                # skips rendering cells outside the viewport, and Run All scrolls on past the
                # explorer, so its image can be in the page yet not "visible" to playwright.
                image.wait_for(state="attached", timeout=WAIT)
                page.locator(f"{PANEL} .jp-OutputArea-output", has_text="not attempted yet").nth(2).wait_for(
                    state="attached", timeout=WAIT)
                image.scroll_into_view_if_needed()
                image.wait_for(timeout=WAIT)

                slider = page.locator(f"{PANEL} .widget-slider", has=page.locator(".widget-label", has_text=DESCRIPTIONS["r1"]))
                readout, src = slider.locator(".widget-readout"), image.get_attribute("src")
                value = readout.inner_text()
                slider.locator(".noUi-handle").focus()
                page.keyboard.press("ArrowRight")
                page.keyboard.press("ArrowRight")
                deadline = time.monotonic() + 60
                while (readout.inner_text() == value or image.get_attribute("src") == src) and time.monotonic() < deadline:
                    page.wait_for_timeout(100)
                assert readout.inner_text() != value and image.get_attribute("src") != src, "the slider did not redraw"
                image.scroll_into_view_if_needed()
                page.screenshot(path=str(shots / "lab-05-explorer.png"))

                # Autosave: the learner's run (new widget model ids) reaches my-notebooks/05.
                copy = clone / "my-notebooks" / NOTEBOOK
                deadline = time.monotonic() + 10 * AUTOSAVE_SECONDS + 60
                while time.monotonic() < deadline:
                    try:
                        saved = _saved_model_ids(copy)
                    except ValueError:  # caught mid-write
                        saved = set()
                    if saved and not saved & stored_ids:
                        break
                    time.sleep(0.5)
                else:
                    pytest.fail(f"my-notebooks/{NOTEBOOK} was not autosaved with the run: "
                                f"widget model ids {saved} (stored notebook: {stored_ids})")
            except BaseException as e:
                page.screenshot(path=str(shots / "lab-failure.png"))
                raise AssertionError(f"{e}\n{_what_the_page_shows(page)}\n--- `make lab` printed (last 3000 characters):\n"
                                     + terminal.text()[-3000:]) from e
            finally:
                browser.close()
    finally:
        terminal.ctrl_c_twice()

    output = terminal.text()
    assert "not trusted" not in output, output
    warnings = [line for line in output.splitlines() if line.startswith("[W ") or "warning" in line.lower()]
    assert not warnings, "warnings in the terminal:\n" + "\n".join(warnings)
    assert _git(clone, "status", "--porcelain") == "", "git status is not clean:\n" + _git(clone, "status")
    assert (clone / "my-notebooks" / NOTEBOOK).read_bytes() != (clone / "notebooks" / NOTEBOOK).read_bytes()
    assert not list((clone / ".lab" / "runtime").glob("kernel-*.json")), "a kernel was left running"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert written == [], f"written outside the project, in HOME: {written}"
    collected = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-m", "pytest", "--nbval", "--collect-only", "-q"],
                               cwd=clone, env=env, capture_output=True, text=True).stdout
    assert "notebooks/05-eigenvalues.ipynb" in collected, collected[-3000:]
    assert "my-notebooks" not in collected, "pytest collects the learner's copies:\n" + collected[-3000:]
