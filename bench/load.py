"""A classroom at once: many browser sessions drawing on one `streamlit run app.py`.

Each session (its own browser context: its own cookies and Streamlit session) draws its own digit again and again,
in turns, for about a minute and at least three times. Printed: per session, the predictions it saw and how many
were its own digit; errors seen on any page; the median and worst stroke-to-prediction time; and the server's memory
at start and end.

    python bench/load.py [--sessions 20] [--seconds 60] [--min-rounds 3]

The browser's 20 pages run on the same machine as the server, so on a small machine the times include the pages'
own rendering competing with the server for the CPU; in a classroom each pupil's device renders its own page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from tools import pagedriver


@dataclass
class Session:
    digit: int
    page: object
    seen: list[str] = field(default_factory=list)  # every Prediction shown after one of this session's strokes
    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(v == str(self.digit) for v in self.seen)


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def run(
    url: str, pid: int, sessions: int, seconds: float | None = None, rounds: int | None = None, min_rounds: int = 1,
    log=print,
) -> dict:
    """Drive `sessions` sessions in turns until `seconds` have passed (and at least `min_rounds` turns are done) or
    `rounds` turns are done; return figures."""
    with pagedriver.browser() as b:
        people = []
        for i in range(sessions):
            page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 800}), url)
            people.append(Session(digit=i % 10, page=page))
        start_mb = rss_mb(pid)
        log(f"{sessions} sessions open; server memory {start_mb:.0f} MB")
        t0, done = time.monotonic(), 0
        while (rounds is None or done < rounds) and (
            seconds is None or time.monotonic() - t0 < seconds or done < min_rounds
        ):
            for s in people:  # everyone draws ...
                if pagedriver.prediction(s.page) is not None:
                    pagedriver.clear(s.page)
                pagedriver.draw_digit(s.page, s.digit)
            for s in people:  # ... then every answer is collected (each page timed its own)
                try:
                    value, secs = pagedriver.wait_for_prediction(s.page, timeout=60)
                    s.seen.append(value)
                    s.times_ms.append(secs * 1000)
                except TimeoutError as e:
                    s.errors.append(str(e))
                s.errors += pagedriver.error_elements(s.page)
            done += 1
            log(f"round {done}: {time.monotonic() - t0:.0f} s, {sum(len(s.seen) for s in people)} predictions")
        end_mb = rss_mb(pid)
    times = [t for s in people for t in s.times_ms]
    return {
        "sessions": people,
        "rounds": done,
        "median_ms": statistics.median(times) if times else float("nan"),
        "worst_ms": max(times) if times else float("nan"),
        "start_mb": start_mb,
        "end_mb": end_mb,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--min-rounds", type=int, default=3, help="draw at least this many times each, however long")
    args = p.parse_args()
    with pagedriver.streamlit_server() as (url, proc):
        r = run(url, proc.pid, args.sessions, seconds=args.seconds, min_rounds=args.min_rounds)
    print(f"\n{'session':>8} {'digit':>6} {'predictions':>12} {'its own digit':>14} {'errors':>7}")
    for i, s in enumerate(r["sessions"]):
        print(f"{i:>8} {s.digit:>6} {len(s.seen):>12} {s.correct:>14} {len(s.errors):>7}")
    total = sum(len(s.seen) for s in r["sessions"])
    own = sum(s.correct for s in r["sessions"])
    errors = sum(len(s.errors) for s in r["sessions"])
    print(f"\n{args.sessions} sessions, {r['rounds']} rounds: {own}/{total} predictions were the session's own digit; "
          f"{errors} errors")
    print(f"stroke to prediction: median {r['median_ms']:.0f} ms, worst {r['worst_ms']:.0f} ms")
    print(f"server memory: {r['start_mb']:.0f} MB at start, {r['end_mb']:.0f} MB at end")


if __name__ == "__main__":
    main()
