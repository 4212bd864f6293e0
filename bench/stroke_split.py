"""Where a stroke's time goes on the page, against the least page that does the job, side by side in one run.

    python bench/stroke_split.py [--digits 10] [--chapters read layers ...] [--against REV]

Serves the page (app.py) and the least page (bench/least_page.py: the same canvas, preparation and network, the
prediction, its probability and the probabilities' chart, nothing else), opens the least page and the page with each
chapter open in headless Chromium, and draws digits on each in turns (clearing between them). For every stroke the
page itself records, in the browser's clock: the mouse-up; each websocket message, sent or received, and its size
(a wrapper around the page's WebSocket); and its last change before half a second of quiet (the page settled). A
stroke's time is split into:
  - send: mouse-up to the rerun message leaving the browser (the canvas's PNG made and sent);
  - script: the script's runs on the server the stroke caused (each page is served through bench/timed_page.py,
    which logs every run's time), with the messages they sent to the browser, counted (messages, kB);
  - browser: the rest, until the page settled: the messages' transfer (local here) and the browser drawing them;
  - busy: of all that, the time the page's renderer spent running tasks (scripts, style, layout, painting), from
    Chromium's own counters (the DevTools protocol's Performance.getMetrics, TaskDuration), read just before the
    last mouse-up and once the page settled: the browser's work itself, less noisy than the wall-clock times.
Printed: each one's median for every page, and the ratios of each page's median mouse-up-to-settled, and of its
median renderer busy time, to the least page's, measured in the same rounds. With --against REV, the page as it was
at git revision REV (extracted to a temporary folder) is served too, with the same chapters open, and drawn on in
the same rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.page_latency import extract
from tools import pagedriver

# Records every websocket message the page sends or receives: the time and its size.
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
      W.received.push({t: performance.now(), n});
    });
    return ws;
  }
  Recording.prototype = Original.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Recording[k] = Original[k];
  window.WebSocket = Recording;
})();
"""
RERUN_MIN_BYTES = 1000  # the rerun message carries the canvas's PNG: larger than anything else the page sends


def renderer_busy_ms(cdp) -> float:
    """The page's renderer's task time so far, in ms (Chromium's TaskDuration)."""
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return 1000 * next(m["value"] for m in metrics if m["name"] == "TaskDuration")


def split(page, sent_from: int, received_from: int, script_s: float) -> dict[str, float] | None:
    """The last stroke's split, from the page's records after the given message counts and the script's seconds."""
    w = page.evaluate("""([s, r]) => ({up: window.__watch.up, last: window.__watch.lastMutation,
                          sent: window.__ws.sent.slice(s), received: window.__ws.received.slice(r)})""",
                      [sent_from, received_from])
    up = w["up"]
    rerun = next((m["t"] for m in w["sent"] if m["t"] >= up and m["n"] >= RERUN_MIN_BYTES), None)
    if rerun is None:
        return None
    received = [m for m in w["received"] if m["t"] >= rerun]
    total, script = w["last"] - up, script_s * 1000
    return {"total": total, "send": rerun - up, "script": script, "browser": max(total - (rerun - up) - script, 0),
            "messages": len(received), "kB": sum(m["n"] for m in received) / 1000}


class RunLog:
    """The script-time log a page served through bench/timed_page.py appends to."""

    def __init__(self, path: Path):
        self.path, self.seen = path, 0
        path.write_text("")

    def since_last(self) -> float:
        """Seconds of the runs logged since the last call."""
        lines = self.path.read_text().splitlines()
        new, self.seen = lines[self.seen :], len(lines)
        return sum(float(v) for v in new)


def open_recording(browser, url: str):
    """The page at `url`, recording its websocket messages, and a DevTools session that reads its renderer's
    counters."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(WS_JS)
    page.goto(url)
    page.locator("canvas.upper-canvas").first.wait_for(timeout=90_000)
    page.evaluate(pagedriver.WATCH_JS)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return page, cdp


def main() -> None:
    from ui.chapters import SLUGS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, default=10, help="digits drawn on each page")
    p.add_argument("--chapters", nargs="*", default=SLUGS, choices=SLUGS, help="chapters to open, one page each")
    p.add_argument("--against", metavar="REV", help="also time the page at this git revision, side by side")
    args = p.parse_args()
    if args.digits < 1:
        p.error("--digits must be at least 1")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        logs, urls = {}, {}
        servers = [("least", "bench/least_page.py", None), ("page", "app.py", None)]
        if args.against:
            (Path(tmp) / "old").mkdir()
            old = extract(args.against, Path(tmp) / "old")
            servers.append((args.against, str(old / "app.py"), old))
        for name, script, cwd in servers:
            logs[name] = RunLog(Path(tmp) / f"{name}.log")
            urls[name], _ = stack.enter_context(pagedriver.streamlit_server(
                app=str(pagedriver.ROOT / "bench" / "timed_page.py"), cwd=cwd,
                env={"TIMED_SCRIPT": script, "TIMED_LOG": str(logs[name].path)}))
        b = stack.enter_context(pagedriver.browser())
        pages = {"least page": ("least", *open_recording(b, urls["least"]))}
        for name, _, _ in servers[1:]:
            for slug in args.chapters:
                label = f"{'page' if name == 'page' else name}, chapter {SLUGS.index(slug) + 1} ({slug})"
                pages[label] = (name, *open_recording(b, f"{urls[name]}?chapter={slug}"))
        for _, page, _ in pages.values():
            pagedriver.wait_for_still(page, timeout=90)
        results: dict[str, list[dict]] = {name: [] for name in pages}
        for k in range(args.digits):
            digit = k % 10
            for name, (server, page, cdp) in pages.items():
                if pagedriver.prediction(page) is not None:
                    pagedriver.clear(page)
                    pagedriver.wait_for_settled(page, timeout=60)
                counts = page.evaluate("() => [window.__ws.sent.length, window.__ws.received.length]")
                logs[server].since_last()
                pagedriver.draw_digit(page, digit, lift=False)  # the pen stays down on the last stroke, until:
                busy = renderer_busy_ms(cdp)
                page.mouse.up()
                pagedriver.wait_for_prediction(page, timeout=60)
                pagedriver.wait_for_settled(page, timeout=60)
                busy = renderer_busy_ms(cdp) - busy
                s = split(page, *counts, logs[server].since_last())
                if s is None:
                    print(f"{name}: digit {digit}: no rerun message seen; left out")
                    continue
                s["busy"] = busy
                results[name].append(s)
                print(f"{name}: digit {digit}: settled {s['total']:.0f} ms (send {s['send']:.0f}, script "
                      f"{s['script']:.0f}, {s['messages']} messages {s['kB']:.1f} kB, browser {s['browser']:.0f}, "
                      f"renderer busy {busy:.0f})")
        least = statistics.median(r["total"] for r in results["least page"])
        print(f"\nmedians over {args.digits} digits a page, one browser, drawn in turns (ms; kB received per stroke):")
        print(f"{'':<36}{'settled':>9}{'ratio':>7}{'send':>7}{'script':>8}{'msgs':>6}{'kB':>8}{'browser':>9}"
              f"{'busy':>7}{'ratio':>7}")
        least_busy = statistics.median(r["busy"] for r in results["least page"])
        for name, rows in results.items():
            if not rows:
                continue
            med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
            print(f"{name:<36}{med['total']:9.0f}{med['total'] / least:7.2f}{med['send']:7.0f}{med['script']:8.0f}"
                  f"{med['messages']:6.0f}{med['kB']:8.1f}{med['browser']:9.0f}{med['busy']:7.0f}"
                  f"{med['busy'] / least_busy:7.2f}")


if __name__ == "__main__":
    main()
