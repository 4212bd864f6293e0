"""Where a stroke's time goes on the page, against the least page that does the job, side by side in one run.

    python bench/stroke_split.py [--digits 10] [--chapters read layers ...]

Serves the page (app.py) and the least page (bench/least_page.py: the same canvas, preparation and network, the
prediction, its probability and the probabilities' chart, nothing else), opens the least page and the page with each
chapter open in headless Chromium, and draws digits on each in turns (clearing between them). For every stroke the
page itself records, in the browser's clock: the mouse-up; each websocket message, sent or received, and its size
(a wrapper around the page's WebSocket); and its last change before half a second of quiet (the page settled). A
stroke's time is split into:
  - send: mouse-up to the rerun message leaving the browser (the canvas's PNG made and sent);
  - server: that message to the server's "script finished" arriving: the script's run on the server and the
    messages it sends, which are counted (messages, kB);
  - browser: from "script finished" to the page settled: drawing what arrived.
Printed: each one's median for every page, and the ratio of each page's median mouse-up-to-settled to the least
page's, measured in the same rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import pagedriver

# Records every websocket message the page sends or receives: the time, its size, and the bytes of a small one
# received (so that "script finished", a few bytes, can be told apart in Python).
WS_JS = """
(() => {
  const W = window.__ws = {sent: [], received: []};
  const Original = window.WebSocket;
  const size = (d) => d.byteLength ?? d.size ?? d.length ?? 0;
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Original(url) : new Original(url, protocols);
    const send = ws.send.bind(ws);
    ws.send = (data) => { W.sent.push({t: performance.now(), n: size(data)}); return send(data); };
    ws.addEventListener('message', (e) => {
      const n = size(e.data);
      W.received.push({t: performance.now(), n, small: e.data instanceof ArrayBuffer && n < 256
                                                       ? Array.from(new Uint8Array(e.data)) : null});
    });
    return ws;
  }
  Recording.prototype = Original.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Recording[k] = Original[k];
  window.WebSocket = Recording;
})();
"""
RERUN_MIN_BYTES = 1000  # the rerun message carries the canvas's PNG: larger than anything else the page sends


def is_script_finished(data: list[int] | None) -> bool:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if data is None:
        return False
    try:
        return ForwardMsg.FromString(bytes(data)).WhichOneof("type") == "script_finished"
    except Exception:  # noqa: BLE001: a fragment that is not a ForwardMsg is not the one looked for
        return False


def split(page, sent_from: int, received_from: int) -> dict[str, float] | None:
    """The last stroke's split, from the page's records after the given message counts."""
    w = page.evaluate("""([s, r]) => ({up: window.__watch.up, last: window.__watch.lastMutation,
                          sent: window.__ws.sent.slice(s), received: window.__ws.received.slice(r)})""",
                      [sent_from, received_from])
    up = w["up"]
    rerun = next((m["t"] for m in w["sent"] if m["t"] >= up and m["n"] >= RERUN_MIN_BYTES), None)
    if rerun is None:
        return None
    done = next((m["t"] for m in w["received"] if m["t"] >= rerun and is_script_finished(m["small"])), None)
    if done is None:
        return None
    between = [m for m in w["received"] if rerun <= m["t"] <= done]
    return {"total": w["last"] - up, "send": rerun - up, "server": done - rerun, "browser": max(w["last"] - done, 0),
            "messages": len(between), "kB": sum(m["n"] for m in between) / 1000}


def open_recording(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(WS_JS)
    page.goto(url)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=90_000)
    page.evaluate(pagedriver.WATCH_JS)
    return page


def main() -> None:
    from ui.chapters import SLUGS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, default=10, help="digits drawn on each page")
    p.add_argument("--chapters", nargs="*", default=SLUGS, choices=SLUGS, help="chapters to open, one page each")
    args = p.parse_args()
    if args.digits < 1:
        p.error("--digits must be at least 1")
    with pagedriver.streamlit_server(app="bench/least_page.py") as (least_url, _), \
            pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        pages = {"least page": open_recording(b, least_url)}
        for slug in args.chapters:
            pages[f"page, chapter {SLUGS.index(slug) + 1} ({slug})"] = open_recording(b, f"{url}?chapter={slug}")
        for page in pages.values():
            pagedriver.wait_for_still(page, timeout=90)
        results: dict[str, list[dict]] = {name: [] for name in pages}
        for k in range(args.digits):
            digit = k % 10
            for name, page in pages.items():
                if pagedriver.prediction(page) is not None:
                    pagedriver.clear(page)
                    pagedriver.wait_for_settled(page, timeout=60)
                counts = page.evaluate("() => [window.__ws.sent.length, window.__ws.received.length]")
                pagedriver.draw_digit(page, digit)
                pagedriver.wait_for_prediction(page, timeout=60)
                pagedriver.wait_for_settled(page, timeout=60)
                s = split(page, *counts)
                if s is None:
                    print(f"{name}: digit {digit}: no rerun or script-finished message seen; left out")
                    continue
                results[name].append(s)
                print(f"{name}: digit {digit}: settled {s['total']:.0f} ms (send {s['send']:.0f}, server "
                      f"{s['server']:.0f}, {s['messages']} messages {s['kB']:.1f} kB, browser {s['browser']:.0f})")
        least = statistics.median(r["total"] for r in results["least page"])
        print(f"\nmedians over {args.digits} digits a page, one browser, drawn in turns (ms; kB received per stroke):")
        print(f"{'':<36}{'settled':>9}{'ratio':>7}{'send':>7}{'server':>8}{'msgs':>6}{'kB':>8}{'browser':>9}")
        for name, rows in results.items():
            if not rows:
                continue
            med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
            print(f"{name:<36}{med['total']:9.0f}{med['total'] / least:7.2f}{med['send']:7.0f}{med['server']:8.0f}"
                  f"{med['messages']:6.0f}{med['kB']:8.1f}{med['browser']:9.0f}")


if __name__ == "__main__":
    main()
