"""A classroom at once: many browser sessions drawing on one `streamlit run app.py`.

Each session (its own browser context: its own cookies and Streamlit session) draws its own digit again and again,
in turns, for about a minute and at least three times. Printed: per session, the predictions it saw and how many
were its own digit; errors seen on any page; the median and worst stroke-to-prediction time; and the server's memory
at start and end.

    python bench/load.py [--sessions 20] [--seconds 60] [--min-rounds 3]
    python bench/load.py --sessions 5 --players 20 --live --rounds 5   # others playing the replay, and training live

With --replicas N the sessions go through nginx to N replicas (tools/serve.py, as `make serve` runs them), sharing
one drawings store (a PostgreSQL of the benchmark's own where Debian's postgresql is installed, else one SQLite file):

    python bench/load.py --replicas 4 --sessions 40 --rounds 3

prints how the sessions spread over the replicas and the stroke-to-prediction times; then every session saves its
drawing, one replica is killed, and the sessions on it must reconnect to a live replica and read their next digits
while the others go on; no saved drawing may be lost. Then the same sessions run against one replica, for the ratio.

With --players N, N more sessions each draw a digit, open "How it learned" and keep its replay playing; with --live
one more session keeps training a fresh network live. The drawing sessions are timed in three phases of one run:
alone, beside the players, and beside the live run.

The browser's 20 pages run on the same machine as the server, so on a small machine the times include the pages'
own rendering competing with the server for the CPU; in a classroom each pupil's device renders its own page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import pagedriver  # noqa: E402
from tools.sessions import (  # noqa: E402
    keep_playing, keep_training, line, open_part, run, shared_store, summary, through_nginx,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--min-rounds", type=int, default=3, help="draw at least this many times each, however long")
    p.add_argument("--rounds", type=int, help="draw exactly this many times each (instead of --seconds)")
    p.add_argument("--players", type=int, default=0, help="more sessions keeping the training replay playing")
    p.add_argument("--live", action="store_true", help="one more session keeping a live training run going")
    p.add_argument("--replicas", type=int, help="through nginx to this many replicas; then a replica killed, then 1")
    args = p.parse_args()
    if args.replicas:
        if args.replicas < 2:
            p.error("--replicas must be at least 2 (one is killed, and one replica runs anyway for the ratio)")
        rounds = args.rounds or args.min_rounds
        with shared_store() as kind, pagedriver.browser() as b:
            print(f"one drawings store for every replica: {kind}")
            many = through_nginx(b, args.replicas, args.sessions, rounds, kill=True)
            one = through_nginx(b, 1, args.sessions, rounds, kill=False)
        print(f"\n{args.sessions} sessions, {rounds} rounds each phase, through nginx")
        print(f"sessions per replica: {many['spread']}")
        print(line(f"first reading of each new session ({args.replicas} replicas, not counted below)", many["warm_up"]))
        print(line(f"{args.replicas} replicas", many["before"]) + f"; replicas' cores busy {many['cores']:.2f}")
        print(line("1 replica", one["before"]) + f"; replica's cores busy {one['cores']:.2f}")
        print(f"median ratio, 1 replica / {args.replicas}: {one['before']['median_ms'] / many['before']['median_ms']:.2f}; "
              f"worst: {one['before']['worst_ms'] / many['before']['worst_ms']:.2f}")
        print(f"replica 0 killed: its {many['after_moved']['sessions']} sessions reached a live replica "
              f"({many['moved_to']}) within {many['moved_in_s']:.1f} s")
        print(line("  after the kill, sessions on the other replicas", many["after_on_others"]))
        print(line("  after the kill, sessions moved from the killed replica", many["after_moved"]))
        print(f"  saved drawings: {many['saved']} saved before the kill, {many['kept']} in the store after it")
        for phase, name in ((many, "before"), (many, "after_on_others"), (many, "after_moved"), (one, "before")):
            for e in sorted(set(phase[name]["errors"]))[:5]:
                print(f"  error ({phase['replicas']} replicas, {name}): {e[:200]}")
        return
    if args.players or args.live:
        phases = {"alone": None}
        if args.players:
            def players(b):
                pages = [open_part(b, url, i % 10, "How it learned") for i in range(args.players)]
                return lambda: keep_playing(pages)
            phases[f"beside {args.players} sessions playing the replay"] = players
        if args.live:
            def trainer(b):
                page = open_part(b, url, 3, "How it learned")
                return lambda: keep_training(page)
            phases["beside a live training run"] = trainer
        with pagedriver.streamlit_server() as (url, proc):
            for name, background in phases.items():
                r = run(url, proc.pid, args.sessions, rounds=args.rounds or args.min_rounds, background=background,
                        log=lambda *a: None)
                counts = summary(r["sessions"])
                own, total, errors = counts["own"], counts["predictions"], len(counts["errors"])
                print(f"{args.sessions} drawing sessions {name}: stroke to prediction median {r['median_ms']:.0f} ms, "
                      f"worst {r['worst_ms']:.0f} ms; {own}/{total} their own digit, {errors} errors; server memory "
                      f"{r['start_mb']:.0f} -> {r['end_mb']:.0f} MB; cores busy: server {r['server_cpu']:.2f}, "
                      f"browsers {r['browser_cpu']:.2f}")
        return
    with pagedriver.streamlit_server() as (url, proc):
        r = run(url, proc.pid, args.sessions, seconds=args.seconds, min_rounds=args.min_rounds)
    print(f"\n{'session':>8} {'digit':>6} {'predictions':>12} {'its own digit':>14} {'errors':>7}")
    for i, s in enumerate(r["sessions"]):
        print(f"{i:>8} {s.digit:>6} {len(s.seen):>12} {s.correct:>14} {len(s.errors):>7}")
    counts = summary(r["sessions"])
    own, total, errors = counts["own"], counts["predictions"], len(counts["errors"])
    print(f"\n{args.sessions} sessions, {r['rounds']} rounds: {own}/{total} predictions were the session's own digit; "
          f"{errors} errors")
    print(f"stroke to prediction: median {r['median_ms']:.0f} ms, worst {r['worst_ms']:.0f} ms")
    print(f"server memory: {r['start_mb']:.0f} MB at start, {r['end_mb']:.0f} MB at end")


if __name__ == "__main__":
    main()
