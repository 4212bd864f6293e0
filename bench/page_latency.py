"""The real page in headless Chromium: time from mouse-up to the new Prediction on screen, and to a usable canvas.

    python bench/page_latency.py [--digits 20] [--tab "Feature maps"] [--against REV]

Starts `streamlit run app.py` on a free port, draws digits with the mouse (clearing between them), and prints the
median and spread of the times the page itself records (a mouse-up listener, a watcher on the Prediction metric, and
the page's last change before half a second of quiet: the page settled).
With --against REV it also serves the page as it was at git revision REV (extracted to a temporary folder) and
draws on both in turns, one digit each, so that both are timed side by side in one run on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import pagedriver


def extract(rev: str, folder: Path) -> Path:
    """The project's files at git revision `rev`, in `folder`."""
    archive = subprocess.run(["git", "archive", rev], cwd=pagedriver.ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    return (f"median {statistics.median(times):.0f} ms, 10th-90th percentile {q[0]:.0f}-{q[-1]:.0f} ms, "
            f"worst {max(times):.0f} ms")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, default=20, help="digits to draw (on each page)")
    p.add_argument("--tab", default="Feature maps", help="analysis tab left open while drawing")
    p.add_argument("--loads", type=int, default=3, help="page loads to time")
    p.add_argument("--against", metavar="REV", help="also time the page at this git revision, side by side")
    args = p.parse_args()
    with ExitStack() as stack, pagedriver.browser() as b:
        pages = {}
        checkouts = {"now": None}
        if args.against:
            checkouts[args.against] = extract(args.against, Path(stack.enter_context(tempfile.TemporaryDirectory())))
        for name, folder in checkouts.items():
            url, _ = stack.enter_context(pagedriver.streamlit_server(cwd=folder))
            loads = []
            for _ in range(args.loads):
                page, ready = pagedriver.open_page(b, url)
                loads.append(ready)
                page.close()
            page, _ = pagedriver.open_page(b, url)
            tab = page.get_by_role("tab", name=args.tab)  # a checkout from before the chapters shows parts in tabs
            tab.click() if tab.count() else pagedriver.open_part(page, args.tab)
            pages[name] = (page, loads, [], [0], [])
        for k in range(args.digits):
            digit = k % 10
            for name, (page, _, times, wrong, settled) in pages.items():
                if pagedriver.prediction(page) is not None:
                    pagedriver.clear(page)
                    pagedriver.wait_for_settled(page)
                pagedriver.draw_digit(page, digit)
                shown, seconds = pagedriver.wait_for_prediction(page)
                settled.append(pagedriver.wait_for_settled(page) * 1000)
                times.append(seconds * 1000)
                wrong[0] += shown != str(digit)
                print(f"{name}: digit {digit}: Prediction {shown} after {seconds * 1000:.0f} ms, settled after "
                      f"{settled[-1]:.0f} ms")
        for name, (_, loads, times, wrong, settled) in pages.items():
            print(f"{name}: page open to usable canvas: median {statistics.median(loads):.2f} s over {len(loads)} "
                  f"loads (first {loads[0]:.2f} s)")
            print(f"{name}: mouse-up to Prediction ({args.tab} tab open): {summary(times)}, over {len(times)} digits "
                  f"({wrong[0]} misread)")
            print(f"{name}: mouse-up to a settled page: {summary(settled)}")


if __name__ == "__main__":
    main()
