"""The page of ``stance serve`` in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium): paste texts, upload a file, download the result,
switch language, take screenshots, and never contact another host.

Skipped where Chromium is not installed, except under CI (``CI`` set), where that fails: CI
installs it (``.ci/run``). ``STANCE_UPDATE_SCREENSHOTS=1`` also writes the screenshots into
``docs/img/`` (how the ones in the docs were made).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
CSV = (
    "id,kommentar,kilde\n"
    '1,"Luk jobcentrene, de skaber ingen job.",fb\n'
    '2,"Tak til min sagsbehandler, hun hjalp mig i job.",web\n'
    "3,,fb\n"
    '4,"Mødet på jobcentret er flyttet til tirsdag.",web\n'
)


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (pip install -e ".[dev]")'
    for module in ("fastapi", "uvicorn", "multipart"):
        if importlib.util.find_spec(module) is None:
            return f'{module} is not installed (pip install -e ".[serve]")'
    return None


_why = _missing()
if _why is not None:
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests cannot run under CI: {_why}", pytrace=False)
    pytest.skip(_why, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("STANCE_SERVE_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "stance", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode(errors="replace"))
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("stance serve did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory, downloads):
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_argument("--window-size=1280,1000")
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.seen_urls = []  # every URL the page requested, from the performance log
    try:
        yield driver
    finally:
        driver.quit()


def _record(driver) -> list[str]:
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            driver.seen_urls.append(message["params"]["request"]["url"])
    return driver.seen_urls


def _wait(driver, condition, seconds: float = 20):
    return WebDriverWait(driver, seconds).until(condition)


def _screenshot(driver, tmp_path: Path, name: str) -> Path:
    """A full-page PNG (CDP), made small; also into docs/img when asked to update them."""
    data = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path = tmp_path / name
    path.write_bytes(base64.b64decode(data["data"]))
    try:
        from PIL import Image

        with Image.open(path) as image:
            image.convert("RGB").quantize(colors=64).save(path, optimize=True)
    except ImportError:
        pass
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("STANCE_UPDATE_SCREENSHOTS"):
        target = REPO / "docs" / "img" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return path


def test_paste_texts_shows_labels_bars_and_highlights(server, browser, tmp_path):
    browser.get(server + "/")
    _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#model option")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "da"
    score = browser.find_element(By.ID, "score").text
    assert "macro-F1" in score and "models/baseline/README.md" in score
    box = browser.find_element(By.ID, "text")
    box.send_keys("Luk jobcentrene, de skaber ingen job og ydmyger folk.")
    box.send_keys(Keys.ENTER, Keys.ENTER)
    box.send_keys("Tak til min dygtige sagsbehandler på jobcentret, hun hjalp mig.")
    box.send_keys(Keys.CONTROL, Keys.ENTER)  # the keyboard shortcut
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li")) == 2)
    first, second = browser.find_elements(By.CSS_SELECTOR, "#results li")
    assert first.find_element(By.CSS_SELECTOR, ".verdict").text.startswith("Imod jobcentrene")
    assert second.find_element(By.CSS_SELECTOR, ".verdict").text.startswith("For jobcentrene")
    marks = first.find_elements(By.CSS_SELECTOR, ".quote mark.against")
    assert marks and all(m.text and m.text in first.text for m in marks)
    assert len(first.find_elements(By.CSS_SELECTOR, ".bar span")) == 3
    assert browser.find_element(By.ID, "legend").is_displayed()
    _record(browser)


def test_upload_csv_pick_column_progress_download_matches_the_cli(
    server, browser, downloads, tmp_path
):
    from stance.cli import main as cli_main

    source = tmp_path / "kommentarer.csv"
    source.write_text(CSV, encoding="utf-8")
    browser.find_element(By.ID, "file").send_keys(str(source))
    _wait(browser, ec.visibility_of_element_located((By.ID, "column")))
    column = Select(browser.find_element(By.ID, "column"))
    assert [o.text for o in column.options] == ["id", "kommentar", "kilde"]
    assert column.first_selected_option.text == "kommentar"  # guessed
    column.select_by_value("kommentar")
    browser.find_element(By.ID, "start").click()
    _wait(browser, ec.visibility_of_element_located((By.ID, "summary")), 60)
    assert float(browser.find_element(By.ID, "progress").get_attribute("value")) == 1.0
    assert "4 rækker" in browser.find_element(By.ID, "summary-rows").text
    cells = browser.find_elements(By.CSS_SELECTOR, "#counts tbody tr")
    assert len(cells) == 3
    assert sum(int(row.find_elements(By.TAG_NAME, "td")[1].text) for row in cells) == 3
    _screenshot(browser, tmp_path, "serve-desktop.png")
    browser.find_element(By.ID, "download").click()
    target = downloads / "kommentarer.stance.csv"
    _wait(browser, lambda d: target.exists() and target.stat().st_size > 0, 30)
    expected = tmp_path / "cli.csv"
    cli_main(
        ["classify", "--input", str(source), "--output", str(expected), "--text-column",
         "kommentar", "--quiet"]
    )  # fmt: skip
    assert target.read_bytes() == expected.read_bytes()
    _record(browser)


def test_switch_language_and_back(server, browser):
    browser.find_element(By.ID, "lang").send_keys(Keys.ENTER)  # by keyboard
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.ID, "texts-h").text == "Texts"
    first = browser.find_element(By.CSS_SELECTOR, "#results li .verdict")
    assert first.text.startswith("Against the jobcentres")
    assert "4 rows" in browser.find_element(By.ID, "summary-rows").text
    browser.find_element(By.ID, "lang").click()
    assert browser.find_element(By.ID, "texts-h").text == "Tekster"


def test_phone_width_screenshot(server, browser, tmp_path):
    browser.set_window_size(390, 844)
    try:
        browser.get(server + "/")
        _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#model option")))
        box = browser.find_element(By.ID, "text")
        box.send_keys("Jobcentret er et kontrolsystem, der ydmyger syge mennesker.")
        browser.find_element(By.ID, "classify").click()
        _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#results li")))
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        _screenshot(browser, tmp_path, "serve-phone.png")
    finally:
        browser.set_window_size(1280, 1000)
    _record(browser)


def test_the_page_requests_nothing_from_other_hosts(server, browser):
    urls = _record(browser)
    paths = {urlsplit(u).path for u in urls}
    assert {"/", "/static/app.js", "/static/style.css", "/v1/models", "/v1/explain"} <= paths
    assert "/v1/jobs" in paths
    host = urlsplit(server).netloc
    # chrome:// (the browser's own start page before the first navigation), data: and blob:
    # never leave the machine; every request over the network must go to the server
    network = [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss", "ftp")]
    assert network
    foreign = [u for u in network if urlsplit(u).netloc != host]
    assert not foreign, f"the page requested other hosts: {foreign}"
