"""The real page in headless Chromium: time from mouse-up to the new Prediction on screen, and to a usable canvas.

    python bench/page_latency.py [--digits 20] [--tab "Feature maps"]

Starts `streamlit run app.py` on a free port, draws digits with the mouse (clearing between them), and prints the
median and spread of the times the page itself records (a mouse-up listener and a watcher on the Prediction metric).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import pagedriver


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--digits", type=int, default=20, help="digits to draw")
    p.add_argument("--tab", default="Feature maps", help="analysis tab left open while drawing")
    p.add_argument("--loads", type=int, default=3, help="page loads to time")
    args = p.parse_args()
    with pagedriver.streamlit_server() as (url, _), pagedriver.browser() as b:
        loads = []
        for _ in range(args.loads):
            page, ready = pagedriver.open_page(b, url)
            loads.append(ready)
            page.close()
        page, _ = pagedriver.open_page(b, url)
        page.get_by_role("tab", name=args.tab).click()
        times, wrong = [], 0
        for k in range(args.digits):
            digit = k % 10
            if pagedriver.prediction(page) is not None:
                pagedriver.clear(page)
            pagedriver.draw_digit(page, digit)
            shown, seconds = pagedriver.wait_for_prediction(page)
            times.append(seconds * 1000)
            wrong += shown != str(digit)
            print(f"digit {digit}: Prediction {shown} after {seconds * 1000:.0f} ms")
        print(f"page open to usable canvas: median {statistics.median(loads):.2f} s over {len(loads)} loads "
              f"(first {loads[0]:.2f} s)")
        q = statistics.quantiles(times, n=10)
        print(f"mouse-up to Prediction ({args.tab} tab open): median {statistics.median(times):.0f} ms, "
              f"10th-90th percentile {q[0]:.0f}-{q[-1]:.0f} ms, worst {max(times):.0f} ms, over {len(times)} digits "
              f"({wrong} misread)")


if __name__ == "__main__":
    main()
