"""A JupyterLab server and a headless Chromium, both started by the tests themselves.

Chromium is Debian's /usr/bin/chromium (never a browser download). Without it
the browser tests skip with a one-line reason, unless RFMAPS_REQUIRE_BROWSER=1
(set by .ci/run), which turns its absence into a failure.
"""

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("RFMAPS_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"server at {url} did not answer within {seconds} s")


@contextlib.contextmanager
def _server(command, tmp: Path, name: str, ready_url: str):
    """Run a server until the block ends; its output goes to ``tmp/<name>.log``."""
    log_path = tmp / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=_server_env(tmp), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(ready_url, process)
            yield log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("RFMAPS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _settings_dir(tmp: Path) -> Path:
    """The project's JupyterLab overrides, as make lab and Binder install them."""
    settings = tmp / "app-settings"
    settings.mkdir()
    shutil.copy(ROOT / "binder" / "overrides.json", settings / "overrides.json")
    return settings


def _server_env(tmp: Path) -> dict:
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR"):
        path = tmp / name.lower()
        path.mkdir(exist_ok=True)
        env[name] = str(path)
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # our kernel and extensions
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp / "user-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp / "workspaces")
    return env


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    shutil.copytree(ROOT / "notebooks", root)
    token, port = secrets.token_hex(16), _free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
               f"--LabServerApp.app_settings_dir={_settings_dir(tmp)}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with _server(command, tmp, "lab", f"http://127.0.0.1:{port}/api/status?token={token}") as log:
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "root": root, "log": log}


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    """Voilà serving notebooks/ as pages without code cells."""
    tmp = tmp_path_factory.mktemp("voila")
    port = _free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               str(ROOT / "notebooks")]
    with _server(command, tmp, "voila", f"http://127.0.0.1:{port}/") as log:
        yield {"url": f"http://127.0.0.1:{port}", "log": log}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def shutdown_kernels(lab) -> None:
    """Stop every kernel the server runs, so notebooks do not pile up kernels."""
    base, token = lab["url"], lab["token"]
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}") as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request).close()


def settings_applied(lab) -> dict:
    url = f"{lab['url']}/lab/api/settings/@jupyterlab/apputils-extension:kernels-settings?token={lab['token']}"
    with urllib.request.urlopen(url) as response:
        return json.load(response)
