"""The real page in headless Chromium against a hasty hand and a hostile client.

- Clearing the moment the answer appears, 40 times on each chapter about the drawing: never a blank page or a
  console error.
- Clearing and drawing at once: the new drawing is read, never lost.
- A crafted canvas message (a tiny PNG claiming 8192 x 8192 pixels, replayed over the page's own websocket): a short
  message, and the server's memory stays near a normal drawing's.
- Six oversized canvas messages from raw websocket clients: refused before they are parsed, and a bystander does not
  notice.
- Markup typed into an input shows as typed in the error that quotes it.
"""

from __future__ import annotations

import base64
import io
import random
import re
import time
import warnings

import psutil
import pytest
from PIL import Image

from tests.conftest import require_browser
from tools import pagedriver
from ui.chapters import CHAPTERS
from ui.parts import DRAWING_PARTS

pytestmark = [pytest.mark.e2e, pytest.mark.full]
require_browser()

# the chapters that show the drawing: between them, every part about the drawing
ANALYSIS = [c.slug for c in CHAPTERS if set(c.parts) & set(DRAWING_PARTS)]
assert {p for c in CHAPTERS if c.slug in ANALYSIS for p in c.parts} >= set(DRAWING_PARTS)
# The blank-page race this hunts (fixed in .streamlit/config.toml) blanked the page within 5 to 25 cycles on one part;
# were it back at one blank in 25 cycles on each chapter, 40 cycles on five chapters would all miss it with a chance
# of 0.96^200, under 0.1% (and one chapter alone with 0.96^40, 20%).
CYCLES = 40

# Records every websocket the page opens (to replay a message on it) and every error the page reports.
RECORD_JS = """
window.__sockets = [];
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
"""


@pytest.fixture(scope="module")
def server():
    with pagedriver.streamlit_server() as (url, proc):
        yield url, proc


@pytest.fixture(scope="module")
def browser():
    with pagedriver.browser() as b:
        yield b


def open_recorded(browser, url):
    """A page in a fresh browser context (its own session), with its websockets and errors recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_JS)
    problems: list[str] = []
    page, _ = pagedriver.open_page(context, url)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text[:300]}") if m.type == "error" else None)
    return page, problems


# Whether the app has gone white: its React tree gone, no text and no canvas left.
IS_BLANK_JS = """() => { const app = document.querySelector('[data-testid="stApp"]');
                          return !app || app.innerText.trim() === '' ||
                                 !document.querySelector('[data-testid="stBidiComponentIsolated"]'); }"""

# Checks for a blank app in every frame in which the page changed, not at a sampled moment: each blank frame is kept.
WATCH_BLANK_JS = f"""() => {{
  const isBlank = {IS_BLANK_JS};
  window.__blank = [];
  let queued = false;
  const check = () => {{ queued = false; if (isBlank()) window.__blank.push(performance.now()); }};
  new MutationObserver(() => {{ if (!queued) {{ queued = true; requestAnimationFrame(check); }} }})
    .observe(document.body, {{subtree: true, childList: true, characterData: true}});
}}"""


# The sum of the drawing canvas's red channel (0 when it is empty), read from the canvas component's shadow root.
CANVAS_INK_JS = """() => { for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
  const c = host.shadowRoot && host.shadowRoot.querySelector('canvas.lower-canvas');
  if (!c) continue;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) ink += d[i];
  return ink; }
  return null; }"""


def blank(page) -> bool:
    """Whether the app is blank now, or went blank at any change since the watch began."""
    return page.evaluate(f"() => ({IS_BLANK_JS})() || window.__blank.length > 0")


def wait_shown(page, timeout: float = 30) -> None:
    """Until a Prediction is on the page; fails at once if the page went blank on the way."""
    page.wait_for_function("() => window.__watch.last !== null || window.__blank.length > 0", timeout=timeout * 1000)
    assert not blank(page), "the page went blank"


def test_the_blank_watch_sees_a_page_blank_for_one_frame(browser):
    page = browser.new_page()
    page.set_content('<div data-testid="stApp"><p>text</p><div data-testid="stBidiComponentIsolated"></div></div>')
    page.evaluate(WATCH_BLANK_JS)
    assert not blank(page)
    page.evaluate("""() => new Promise((done) => { const app = document.querySelector('[data-testid="stApp"]');
                                                   const kept = app.innerHTML; app.innerHTML = '';
                                                   const back = () => { app.innerHTML = kept; done(); };
                                                   requestAnimationFrame(() => requestAnimationFrame(back)); })""")
    assert not page.evaluate(f"({IS_BLANK_JS})()")  # whole again now, but the blank frame was seen
    assert blank(page)
    page.close()


@pytest.mark.parametrize("chapter", ANALYSIS)
def test_clearing_as_the_answer_appears_never_blanks_the_page(server, browser, chapter):
    url, _ = server
    page, problems = open_recorded(browser, url)
    pagedriver.open_chapter(page, chapter)
    page.evaluate(WATCH_BLANK_JS)
    rng = random.Random(ANALYSIS.index(chapter))
    clear = page.get_by_role("button", name="Clear")
    canvas = page.locator("canvas.upper-canvas").first
    box = pagedriver.stable_box(canvas)  # nothing above the canvas changes as the parts below it arrive
    t0 = time.monotonic()
    for cycle in range(CYCLES):
        pagedriver.draw_digit(page, [7, 1, 4][cycle % 3], steps=2, box=box)
        wait_shown(page)
        time.sleep(rng.uniform(0, 0.3))  # a random moment while the rest of the drawing's part is still arriving
        clear.click()
        time.sleep(rng.uniform(0, 0.3))
        assert not blank(page), f"blank page after cycle {cycle}"
    try:
        page.wait_for_function("() => window.__watch.last === null", timeout=15_000)  # the last Clear settles
    except Exception:  # noqa: BLE001: Playwright's TimeoutError
        # Seen once on a loaded CI machine and not in 2,400 cycles here since: said in the run's warnings, with what
        # the canvas held, and pressed again as a visitor would.
        warnings.warn(f"{chapter}: the last Clear had not emptied the prediction after 15 s (canvas ink: "
                      f"{page.evaluate(CANVAS_INK_JS)}); pressed again", stacklevel=1)
        pagedriver.clear(page)
    assert pagedriver.stable_box(canvas) == box
    pagedriver.draw_digit(page, 3)
    assert pagedriver.wait_for_prediction(page, "3")[0] == "3"
    print(f"\n{chapter}: {CYCLES} draw-then-clear cycles in {time.monotonic() - t0:.0f} s, 0 blank pages")
    assert problems == []
    page.context.close()


def test_drawing_right_after_clear_is_never_lost(server, browser):
    url, _ = server
    page, problems = open_recorded(browser, url)
    rng = random.Random(1)
    clear = page.get_by_role("button", name="Clear")
    pagedriver.draw_digit(page, 7)
    pagedriver.wait_for_prediction(page, "7")
    for cycle in range(12):
        before, after = [(7, 1), (1, 4), (4, 7)][cycle % 3]
        clear.click()
        time.sleep(rng.uniform(0, 0.15))  # within 0.2 s of Clear: 11 of 12 such drawings used to vanish
        pagedriver.draw_digit(page, after)
        shown, _ = pagedriver.wait_for_prediction(page, str(after), timeout=15)
        assert shown == str(after), f"cycle {cycle}: the {after} drawn after Clear was lost"
    assert problems == []
    page.context.close()


def bomb_data_url() -> str:
    """An almost-black 8192 x 8192 RGBA PNG: about 370 kB to send, 256 MB once decoded."""
    img = Image.new("RGBA", (8192, 8192), (0, 0, 0, 255))
    img.putpixel((4096, 4096), (255, 255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def peak_rss_mb(pid: int, seconds: float) -> float:
    """The server's largest resident memory over the next `seconds`, sampled every 10 ms."""
    proc, peak = psutil.Process(pid), 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, proc.memory_info().rss / 2**20)
        time.sleep(0.01)
    return peak


def test_a_crafted_canvas_message_costs_the_server_little(server, browser):
    """Replays the page's own rerun message with the canvas's PNG replaced by a decompression bomb."""
    import json

    from streamlit.proto.BackMsg_pb2 import BackMsg

    url, proc = server
    page, problems = open_recorded(browser, url)
    page.evaluate("""() => { const s = window.__sockets[window.__sockets.length - 1];
                              const send = s.send.bind(s);
                              window.__lastRerun = null;
                              s.send = (data) => { window.__lastRerun = data; return send(data); }; }""")
    pagedriver.draw_digit(page, 7)
    pagedriver.wait_for_prediction(page, "7")
    captured = bytes(page.evaluate("() => Array.from(new Uint8Array(window.__lastRerun))"))
    msg = BackMsg()
    msg.ParseFromString(captured)
    (canvas,) = [w for w in msg.rerun_script.widget_states.widgets if w.id.endswith("-canvas")]
    value = json.loads(canvas.json_value)

    def replay(data_url: str) -> float:
        """Send the captured message with the canvas's PNG replaced; the server's peak memory rise in MB."""
        value["drawing"]["data"] = data_url
        canvas.json_value = json.dumps(value)
        payload = base64.b64encode(msg.SerializeToString()).decode("ascii")
        before = psutil.Process(proc.pid).memory_info().rss / 2**20
        page.evaluate("""(b64) => { const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                                    window.__sockets[window.__sockets.length - 1].send(bytes); }""", payload)
        return peak_rss_mb(proc.pid, 3.0) - before

    normal = replay(value["drawing"]["data"])  # the drawing as the canvas sent it
    bomb_url = bomb_data_url()
    assert len(bomb_url) < 600_000
    bomb = replay(bomb_url)
    page.get_by_text("larger than the 280×280 canvas").first.wait_for(timeout=30_000)
    print(f"\nserver memory rise: a normal drawing {normal:+.0f} MB, a crafted 8192×8192 PNG {bomb:+.0f} MB "
          f"(decoding it would take 256 MB for the pixels alone)")
    assert bomb < 64, bomb
    assert pagedriver.prediction(page) is None
    assert [p for p in problems if "Cannot set" in p or "page error" in p] == []
    page.context.close()


def capture_rerun(page) -> None:
    """From now on, keep the last message the page sends on its websocket (window.__lastRerun)."""
    page.evaluate("""() => { const s = window.__sockets[window.__sockets.length - 1];
                              const send = s.send.bind(s);
                              window.__lastRerun = null;
                              s.send = (data) => { window.__lastRerun = data; return send(data); }; }""")


def test_an_oversized_canvas_message_is_refused_before_it_is_parsed(server, browser):
    """One 14.9 MB canvas value (a stroke of a million points) once held about 120 MB of the server for the two
    minutes a disconnected session is kept; six at once took it to 4.7 GB and a bystander's reading to 14-45 s.
    Six such messages (the page's own rerun message, grown), sent at once by raw websocket clients as the attack was,
    now close their connections before they are parsed, and the server's memory and a bystander do not notice."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url, proc = server
    bystander, _ = open_recorded(browser, url)
    capture_rerun(bystander)
    pagedriver.draw_digit(bystander, 3)
    pagedriver.wait_for_prediction(bystander, "3")
    captured = bytes(bystander.evaluate("() => Array.from(new Uint8Array(window.__lastRerun))"))
    msg = BackMsg()
    msg.ParseFromString(captured)
    (canvas,) = [w for w in msg.rerun_script.widget_states.widgets if w.id.endswith("-canvas")]
    value = json.loads(canvas.json_value)
    value["drawing"]["raw"]["objects"] = [{"type": "path", "path": [["L", i % 280, i // 4400] for i in range(920_000)]}]
    canvas.json_value = json.dumps(value)
    big = msg.SerializeToString()
    assert 14_000_000 < len(big) < 16_000_000  # under the 16 MB a websocket message may be: the page's own limit acts

    def attack(_) -> int | None:
        """Connect as the page does, draw, send the message, and return the code the server closed the connection
        with."""
        with connect(url.replace("http", "ws", 1) + "_stcore/stream", subprotocols=["streamlit"], max_size=None,
                     origin=url.rstrip("/"), open_timeout=30) as ws:
            ws.send(captured)  # a drawing, as a page sends it: the session runs the page once
            ws.recv(timeout=30)
            try:
                ws.send(big)
                while True:
                    ws.recv(timeout=30)
            except ConnectionClosed:
                pass
            return ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None

    before = psutil.Process(proc.pid).memory_info().rss / 2**20
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(attack, range(6)))
    rise = peak_rss_mb(proc.pid, 5.0) - before
    pagedriver.clear(bystander)
    pagedriver.draw_digit(bystander, 4)
    shown, seconds = pagedriver.wait_for_prediction(bystander, "4")
    print(f"\nsix {len(big) / 1e6:.1f} MB canvas messages: closed with {sorted(set(codes), key=str)}, server memory "
          f"{rise:+.0f} MB, a bystander's next reading {seconds * 1000:.0f} ms after mouse-up")
    assert codes == [1009] * 6, codes  # Message Too Big
    assert rise < 100, rise
    bystander.context.close()


@pytest.mark.parametrize(
    "typed, forbidden",
    [("**x**", "strong"), ("1 [a](https://ev.il) 2", "a"), ("$\\huge{BIG}$", ".katex"), (":red[red] 1", None)],
)
def test_typed_markup_shows_as_typed(server, browser, typed, forbidden):
    url, _ = server
    page, problems = open_recorded(browser, url)
    pagedriver.open_part(page, "1D convolution padding")
    box = page.get_by_label("Input x (up to 64 numbers)")
    box.fill(typed)
    box.press("Enter")
    alert = page.locator('[data-testid="stAlertContentError"]').filter(has_text="is not a number").first
    alert.wait_for(timeout=30_000)
    token = typed.split()[0] if not typed.startswith("1 ") else typed.split()[1]
    assert alert.locator("code").inner_text() == token  # quoted as code, exactly as typed
    if forbidden:
        assert alert.locator(forbidden).count() == 0
    assert problems == []
    page.context.close()


def test_a_waiting_tab_gets_its_turn_and_a_second_tab_of_one_address_gets_no_place(browser):
    """Two visitors (two addresses, as a proxy in front would pass them on) press Train one after the other: the
    second waits, its browser asking for its turn, and trains once the first is done, with no click of its own; a
    second tab from the first one's address is told that address has its place already."""
    from ui.serving import BEHIND_PROXY

    with pagedriver.streamlit_server(env={BEHIND_PROXY: "1"}) as (url, _):
        pages = []
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
            context = browser.new_context(viewport={"width": 1280, "height": 800},
                                          extra_http_headers={"X-Forwarded-For": address})
            page, _ = pagedriver.open_page(context, url)
            pagedriver.draw_digit(page, 5)
            pagedriver.wait_for_prediction(page)
            pagedriver.open_part(page, "How it learned")
            pages.append(page)
        first, second, same_address = pages
        first.get_by_role("button", name="Train a fresh network").click()
        first.get_by_text(re.compile(r"step \d+ of \d+")).first.wait_for(timeout=60_000)  # training now
        for page in (second, same_address):
            page.get_by_role("button", name="Train a fresh network").click()
        second.get_by_text(re.compile("Another visitor's network is training: yours is next")).wait_for(timeout=30_000)
        same_address.get_by_text("Another tab from your address is already training or waiting").wait_for(
            timeout=30_000)
        first.get_by_text(re.compile(r"^Trained: \d+ steps")).wait_for(timeout=120_000)
        second.get_by_text(re.compile(r"^Trained: \d+ steps")).wait_for(timeout=120_000)  # with no click of its own
        for page in pages:
            page.context.close()
