"""Screenshots of every dashboard page in a real browser: `make screenshots` (README images in docs/screenshots/).

    python scripts/screenshots.py --out docs/screenshots

Starts `python -m dashboard` on a free port against the lake the settings name (the local stack by default),
opens each page in Debian's headless chromium through chromedriver (selenium), waits until the page has run and
its charts are drawn, and saves `<page>.png` of the whole page. Exits 1 when a page shows an exception.

`DashboardServer` and `Browser` are also what the browser test drives (tests/integration/test_dashboard_browser.py).
Nothing here downloads a browser: chromium and chromium-driver come from apt (`apt-get install chromium
chromium-driver`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# url path of each page (st.Page names them after their file in dashboard/views/), and its title
PAGES: dict[str, str] = {
    "overview": "Overview",
    "quality": "Data quality",
    "runs": "Runs",
    "engines": "Engines",
    "benchmark": "Benchmark",
}
WIDTH = 1440


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DashboardServer:
    """`python -m dashboard` on a free port of 127.0.0.1, started with `env`, stopped on exit."""

    def __init__(self, env: Mapping[str, str] | None = None, log: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = dict(os.environ if env is None else env)
        self._log_path = log or Path(tempfile.mkstemp(suffix="-dashboard.log")[1])
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DashboardServer:
        self._log = self._log_path.open("wb")
        command = [sys.executable, "-m", "dashboard", "--port", str(self.port)]
        self._proc = subprocess.Popen(command, cwd=REPO, env=self._env, stdout=self._log, stderr=subprocess.STDOUT)
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited {self._proc.returncode}:\n{self.log_tail()}")
            with (
                contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"the dashboard did not answer /_stcore/health within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._log is not None:
            self._log.close()


class Browser:
    """Headless Debian chromium driven by chromedriver, with what the dashboard's pages need."""

    def __init__(self, height: int = 1000) -> None:
        for binary in (CHROMIUM, CHROMEDRIVER):
            if not binary.exists():
                raise FileNotFoundError(f"{binary} not found: apt-get install -y chromium chromium-driver")
        self._profile = tempfile.mkdtemp(prefix="twinlake-chromium-")
        options = Options()
        options.binary_location = str(CHROMIUM)
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={self._profile}",
            f"--window-size={WIDTH},{height}",
        ):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self._height = height

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.driver.quit()
        shutil.rmtree(self._profile, ignore_errors=True)

    def run_js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def open(self, url: str, timeout: float = 60.0) -> None:
        self.driver.set_window_size(WIDTH, self._height)
        self.driver.get(url)
        self.wait_until_drawn(timeout)

    def wait_until_drawn(self, timeout: float = 60.0, settle: float = 0.5) -> None:
        """Until the script has run, the page shows something and every chart has drawn (then `settle` seconds
        for the last chart's transition)."""
        deadline = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = self.run_js(
                """
                const app = document.querySelector('[data-testid="stApp"]');
                const main = document.querySelector('[data-testid="stMain"]');
                const charts = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'));
                return {
                  script: app && app.getAttribute('data-test-script-state'),
                  connection: app && app.getAttribute('data-test-connection-state'),
                  content: main ? main.querySelectorAll('[data-testid="stElementContainer"]').length : 0,
                  charts: charts.length,
                  drawn: charts.filter(c => c.querySelector('canvas, svg')).length,
                  skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
                };
                """
            )
            done = state.get("script") == "notRunning" and state.get("connection") == "CONNECTED"
            if done and state["content"] and state["charts"] == state["drawn"] and not state["skeletons"]:
                time.sleep(settle)
                return
            time.sleep(0.05)
        raise TimeoutError(f"the page did not finish drawing within {timeout:.0f} s: {state}")

    def exceptions(self) -> list[str]:
        """The text of every exception box on the page (Streamlit shows one for an uncaught error)."""
        found: list[str] = self.run_js(
            "return Array.from(document.querySelectorAll('[data-testid=\"stException\"]')).map(e => e.innerText)"
        )
        return found

    def metrics(self) -> dict[str, str]:
        """`{label: value}` of every KPI card on the page."""
        found: dict[str, str] = self.run_js(
            """
            const out = {};
            for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
              const label = m.querySelector('[data-testid="stMetricLabel"]');
              const value = m.querySelector('[data-testid="stMetricValue"]');
              if (label && value) out[label.innerText.trim()] = value.innerText.trim();
            }
            return out;
            """
        )
        return found

    def text(self) -> str:
        main: str = self.run_js("return document.querySelector('[data-testid=\"stMain\"]').innerText")
        sidebar: str = self.run_js(
            "const s = document.querySelector('[data-testid=\"stSidebar\"]'); return s ? s.innerText : ''"
        )
        return main + "\n" + sidebar

    def screenshot(self, path: Path) -> Path:
        """The whole page: the window grows to the height of the main area first."""
        height = int(self.run_js("return document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))
        self.driver.set_window_size(WIDTH, min(max(height + 20, self._height), 8000))
        time.sleep(0.8)  # charts redraw at the new size
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(WIDTH, self._height)
        return path


def page_url(base: str, page: str) -> str:
    return base if page == "overview" else f"{base}/{page}"


@contextlib.contextmanager
def dashboard_in_browser(env: Mapping[str, str] | None = None) -> Iterator[tuple[DashboardServer, Browser]]:
    with DashboardServer(env) as server, Browser() as browser:
        yield server, browser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots", help="folder of the PNG files")
    args = parser.parse_args(argv)
    failed = False
    with dashboard_in_browser() as (server, browser):
        for page, title in PAGES.items():
            browser.open(page_url(server.url, page))
            problems = browser.exceptions()
            path = browser.screenshot(args.out / f"{page}.png")
            print(f"{title:<13} {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
            if problems:
                failed = True
                print(f"  the page shows an exception: {problems[0][:500]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
