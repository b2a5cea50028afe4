"""`make lab` and `make reset-notebook`: the learner's own copies of the notebooks, opened in JupyterLab.

    python scripts/lab.py [JupyterLab options]    # what `make lab LAB_ARGS="..."` runs
    python scripts/lab.py reset NN                # what `make reset-notebook NB=NN` runs

`make lab`:
1. copies each notebooks/NN-*.ipynb into my-notebooks/ (git-ignored) when my-notebooks/ has no
   file of that name yet. A file that exists there is never overwritten: it holds the learner's
   edits and runs. The stored notebooks in notebooks/ are what `make test` checks; JupyterLab
   never opens them, so autosave cannot change them.
2. marks the copies it makes as trusted (signs them in a notebook-signature database inside
   .lab/), so JupyterLab trusts their stored outputs and prints no "Notebook ... is not trusted".
3. starts JupyterLab on my-notebooks/ with everything it writes kept in .lab/ (git-ignored):
   user settings (the defaults in scripts/lab-settings/, e.g. no news pop-up, are copied there
   once), workspaces, runtime files, the signature database, IPython's and matplotlib's caches.
   Nothing is written to ~/.jupyter, ~/.local/share/jupyter, ~/.ipython or ~/.cache (and
   Jupyter configuration in ~/.jupyter is not read: the series runs the same for everyone).
4. once the server answers, prints the address that opens 00-contents on its own line, whatever
   the options (a port taken by something else, a token of your own, --no-browser).

`make reset-notebook NB=05` moves my-notebooks/05-*.ipynb to my-notebooks/backups/ (with the
time in its name; nothing is deleted) and copies the stored notebook afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STORED = REPO / "notebooks"               # the tested notebooks; never opened by JupyterLab
WORK = REPO / "my-notebooks"              # the learner's copies (git-ignored)
STATE = REPO / ".lab"                     # everything JupyterLab and the kernels write (git-ignored)
DEFAULT_SETTINGS = Path(__file__).resolve().parent / "lab-settings"
FIRST = "00-contents.ipynb"

# Jupyter, IPython and matplotlib read these; the kernels inherit them from the server.
ENV_DIRS = {
    "JUPYTER_CONFIG_DIR": STATE / "config",     # instead of ~/.jupyter (Jupyter writes a "migrated" marker there)
    "JUPYTER_DATA_DIR": STATE / "data",         # notebook signatures (trust), kernel specs of its own
    "JUPYTER_RUNTIME_DIR": STATE / "runtime",   # jpserver-PID.json, kernel connection files, cookie secret
    "IPYTHONDIR": STATE / "ipython",            # the kernels' history database
    "MPLCONFIGDIR": STATE / "matplotlib",       # matplotlib's font cache
}


def _set_env() -> None:
    for name, path in ENV_DIRS.items():
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    os.environ.pop("MPLBACKEND", None)  # a non-inline backend would hide the notebooks' figures


def _stored_notebooks() -> list[Path]:
    return sorted(STORED.glob("[0-9][0-9]-*.ipynb"))


def _notary():
    from nbformat.sign import NotebookNotary

    return NotebookNotary(data_dir=os.environ["JUPYTER_DATA_DIR"])


def _origins_file() -> Path:
    return STATE / "copied-from.json"


def _read_origins() -> dict:
    try:
        return json.loads(_origins_file().read_text())
    except (OSError, ValueError):
        return {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_and_trust(source: Path, notary, origins: dict) -> None:
    """Copy a stored notebook into my-notebooks/ and sign the copy (the caller checked it is absent)."""
    target = WORK / source.name
    shutil.copyfile(source, target)
    _trust(target, notary)
    origins[source.name] = _digest(source)


def _trust(path: Path, notary) -> None:
    import nbformat

    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    if not notary.check_signature(nb):
        notary.sign(nb)


def make_copies() -> None:
    """Copy every stored notebook that my-notebooks/ does not have yet; never overwrite one."""
    WORK.mkdir(exist_ok=True)
    origins, notary, made, outdated = _read_origins(), None, [], []
    for source in _stored_notebooks():
        target = WORK / source.name
        if target.exists():
            if source.name in origins and origins[source.name] != _digest(source):
                outdated.append(source.name[:2])
            if target.read_bytes() == source.read_bytes():  # untouched: trusted again if .lab/ was deleted
                notary = notary or _notary()
                _trust(target, notary)
            continue
        notary = notary or _notary()
        _copy_and_trust(source, notary, origins)
        made.append(source.name)
    _origins_file().write_text(json.dumps(origins, indent=1, sort_keys=True) + "\n")
    where = WORK.relative_to(REPO)
    if made:
        print(f"Copied {len(made)} notebook(s) into {where}/: you work there; notebooks/ stays as tested.")
    else:
        print(f"Opening your copies in {where}/ (your edits and outputs are kept there).")
    for nn in outdated:
        print(f"Note: notebooks/{nn}-* has changed since your copy was made; "
              f"`make reset-notebook NB={nn}` takes the new version (yours goes to {where}/backups/).")


def reset(nb: str) -> int:
    """Move the learner's copy of notebook NB to my-notebooks/backups/ and copy the stored one afresh."""
    nb = nb.strip()
    matches = [p for p in _stored_notebooks() if nb and (p.name.startswith(nb.zfill(2) + "-") or p.stem == nb or p.name == nb)]
    if len(matches) != 1:
        names = ", ".join(p.name[:2] for p in _stored_notebooks())
        print(f"reset-notebook: NB must name one notebook, expected one of {names} (e.g. NB=05), got {nb!r}",
              file=sys.stderr)
        return 2
    source = matches[0]
    WORK.mkdir(exist_ok=True)
    target = WORK / source.name
    origins = _read_origins()
    if target.exists() and target.read_bytes() == source.read_bytes():
        print(f"{target.relative_to(REPO)} is already the stored notebook: nothing to do.")
        return 0
    if target.exists():
        backups = WORK / "backups"
        backups.mkdir(exist_ok=True)
        stamp = f"{datetime.now():%Y-%m-%d-%H%M%S}"
        backup, n = backups / f"{source.stem}.{stamp}.ipynb", 1
        while backup.exists():  # two resets within a second: never overwrite a backup
            n += 1
            backup = backups / f"{source.stem}.{stamp}-{n}.ipynb"
        target.rename(backup)
        print(f"Your copy is kept as {backup.relative_to(REPO)}")
    _copy_and_trust(source, _notary(), origins)
    _origins_file().write_text(json.dumps(origins, indent=1, sort_keys=True) + "\n")
    print(f"{target.relative_to(REPO)} is the stored notebook again. If it is open in JupyterLab, "
          "use File > Reload Notebook from Disk there (or close its tab first).")
    return 0


def copy_default_settings() -> Path:
    """Copy scripts/lab-settings/ into .lab/user-settings/, file by file, keeping files that exist."""
    user_settings = STATE / "user-settings"
    for source in DEFAULT_SETTINGS.rglob("*.jupyterlab-settings"):
        target = user_settings / source.relative_to(DEFAULT_SETTINGS)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return user_settings


def _server_info(pid: int) -> dict | None:
    try:
        return json.loads((Path(os.environ["JUPYTER_RUNTIME_DIR"]) / f"jpserver-{pid}.json").read_text())
    except (OSError, ValueError):
        return None  # not written yet (or half written)


def _answers(info: dict) -> bool:
    url = f"{info['url'].rstrip('/')}/api/status" + (f"?token={info['token']}" if info.get("token") else "")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # localhost never via a proxy
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def lab(args: list[str]) -> int:
    make_copies()
    user_settings = copy_default_settings()
    cmd = [
        sys.executable, "-m", "jupyterlab", str(WORK / FIRST),
        f"--ServerApp.root_dir={WORK}",
        f"--LabApp.user_settings_dir={user_settings}",
        f"--LabApp.workspaces_dir={STATE / 'workspaces'}",
        # No search for language servers: the project ships none, and the search runs npm, which
        # writes logs to ~/.npm.
        "--LanguageServerManager.autodetect=False",
        # Drops tornado's notice about websocket ping settings (see the file).
        f"--ServerApp.config_file={Path(__file__).resolve().parent / 'jupyter_server_config.py'}",
        # Encrypt the kernels' local connections (CurveZMQ, which the kernel spec declares):
        # otherwise every kernel warns that it "is running over TCP without encryption".
        "--KernelManager.transport_encryption=auto",
        *args,
    ]
    server = subprocess.Popen(cmd, cwd=REPO)
    # Ctrl-C reaches the whole process group: JupyterLab asks whether to shut down; we wait for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_requested = []

    def forward(signum, frame):  # `make` passes SIGTERM on to us; JupyterLab shuts its kernels down
        stop_requested.append(signum)
        server.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    printed = False
    while server.poll() is None and not printed:
        info = _server_info(server.pid)
        if info and not info.get("sock") and (info.get("secure") or _answers(info)):
            url = f"{info['url'].rstrip('/')}/lab/tree/{FIRST}" + (f"?token={info['token']}" if info.get("token") else "")
            print(f"\nThe series starts here (open this address in your browser):\n{url}\n", flush=True)
            printed = True
        else:
            time.sleep(0.2)
    code = server.wait()
    if code < 0:  # ended by a signal
        return 0 if stop_requested else 128 - code
    return code


def main(argv: list[str]) -> int:
    _set_env()
    if argv[:1] == ["reset"]:
        return reset(" ".join(argv[1:]))
    return lab(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
