"""Many browser sessions drawing at once on the page: the driver that bench/load.py measures with and that
tests/test_load.py checks with. Each session is a browser context of its own (its own cookies and Streamlit session).
"""

from __future__ import annotations

import re
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

from tools import pagedriver


@dataclass
class Session:
    digit: int
    page: object
    replica: str | None = None  # behind nginx: the replica it sticks to
    seen: list[str] = field(default_factory=list)  # every Prediction shown after one of this session's strokes
    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(v == str(self.digit) for v in self.seen)


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by the server (`pid` and its children) and by everything else this process started
    (the browsers), so a phase can say which of the two was busy."""
    def used(procs) -> float:
        total = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    server = psutil.Process(pid)
    server_tree = [server, *server.children(recursive=True)]
    ids = {p.pid for p in server_tree}
    others = [p for p in psutil.Process().children(recursive=True) if p.pid not in ids]
    return used(server_tree), used(others)


def open_part(b, url: str, digit: int, tab: str):
    """A new session that has drawn `digit` and opened `tab`."""
    page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 800}), url)
    pagedriver.draw_digit(page, digit)
    pagedriver.wait_for_prediction(page, timeout=60)
    pagedriver.open_part(page, tab)
    return page


def keep_playing(pages) -> None:
    """Press Play on every replay that is not playing now (a play runs through the snapshots once)."""
    for page in pages:
        page.evaluate("""() => { for (const b of document.querySelectorAll('.updatemenu-button'))
                                   if (b.textContent.includes('Play')) b.dispatchEvent(new MouseEvent('click', {bubbles: true})); }""")


def keep_training(page) -> None:
    """Start a live run on `page` unless one is running there."""
    button = page.get_by_role("button", name="Train a fresh network")
    if button.count() and not page.get_by_text(re.compile(r"step \d+ of \d+")).count():
        button.click()


def one_round(people: list[Session], timeout: float = 60, at_once: bool = False) -> None:
    """Everyone draws their digit; then every answer is collected (each page timed its own). With `at_once`, every
    page draws all but the end of its last stroke, and then all the pens lift together: the servers get every
    session's last stroke within about a second."""
    for s in people:
        try:
            if pagedriver.prediction(s.page) is not None:
                pagedriver.clear(s.page, timeout=timeout)
            pagedriver.draw_digit(s.page, s.digit, lift=not at_once)
        except TimeoutError as e:
            s.errors.append(str(e))
    if at_once:
        for s in people:
            s.page.mouse.up()
    for s in people:
        try:
            value, secs = pagedriver.wait_for_prediction(s.page, timeout=timeout)
            s.seen.append(value)
            s.times_ms.append(secs * 1000)
        except TimeoutError as e:
            s.errors.append(str(e))
        s.errors += pagedriver.error_elements(s.page)


def summary(people: list[Session], since: dict[int, tuple[int, int, int]] | None = None) -> dict:
    """Own-digit predictions, errors and times of `people`; with `since` (from mark()), only what came after it."""
    def after(s: Session) -> tuple[list, list, list]:
        a, b, c = (since or {}).get(id(s), (0, 0, 0))
        return s.seen[a:], s.times_ms[b:], s.errors[c:]

    parts = [after(s) for s in people]
    seen = [(v, s.digit) for s, (vs, _, _) in zip(people, parts) for v in vs]
    times = [x for _, ts, _ in parts for x in ts]
    return {"sessions": len(people), "predictions": len(seen), "own": sum(v == str(d) for v, d in seen),
            "errors": [e for _, _, es in parts for e in es],
            "median_ms": statistics.median(times) if times else float("nan"),
            "worst_ms": max(times) if times else float("nan")}


def mark(people: list[Session]) -> dict[int, tuple[int, int, int]]:
    return {id(s): (len(s.seen), len(s.times_ms), len(s.errors)) for s in people}


def line(name: str, r: dict) -> str:
    return (f"{name}: {r['sessions']} sessions, {r['own']}/{r['predictions']} predictions their own digit, "
            f"{len(r['errors'])} errors; stroke to prediction median {r['median_ms']:.0f} ms, worst {r['worst_ms']:.0f} ms")


def through_nginx(b, replicas: int, sessions: int, rounds: int, kill: bool, log=print) -> dict:
    """`sessions` sessions through nginx to `replicas` replicas: `rounds` rounds; with `kill`, then every session
    saves its drawing, replica 0 is killed, and `rounds` more rounds follow."""
    from collections import Counter

    from classroom.drawings import DrawingsStore
    from tools.serve import Cluster

    out: dict = {"replicas": replicas}
    with Cluster(replicas, pagedriver.free_port(), restart=False) as cluster, \
            cluster.watched(interval=0.5, log=lambda line: log(f"  health check: {line}")):
        people = []
        for i in range(sessions):
            page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 800}), cluster.url)
            people.append(Session(digit=i % 10, page=page, replica=pagedriver.replica_of(page)))
        out["spread"] = dict(sorted(Counter(s.replica for s in people).items()))
        log(f"{sessions} sessions open through nginx on {replicas} replica(s): sessions per replica {out['spread']}")
        one_round(people, at_once=True)  # a first reading per session, not counted: each new session's first run loads its parts
        warm = mark(people)
        out["warm_up"] = summary(people)
        cpu0, t0 = replica_cpu(cluster), time.monotonic()
        for k in range(rounds):
            one_round(people, at_once=True)
            log(f"  round {k + 1}: {time.monotonic() - t0:.0f} s")
        out["cores"] = (replica_cpu(cluster) - cpu0) / (time.monotonic() - t0)
        out["before"] = summary(people, warm)
        if not kill:
            return out
        store = DrawingsStore()
        saved_before = store.count()
        for s in people:  # every session saves the drawing it has on its canvas
            try:
                pagedriver.turn_saving_on(s.page)
                pagedriver.label_reading(s.page, s.digit, pagedriver.prediction(s.page))
            except Exception as e:  # noqa: BLE001: any failure is a figure of the run
                s.errors.append(f"saving: {e}")
        out["saved"] = store.count() - saved_before
        log(f"  {out['saved']} drawings saved; killing replica 0")
        doomed = [s for s in people if s.replica == "0"]
        others = [s for s in people if s.replica != "0"]
        marks = mark(people)
        t_kill = time.monotonic()
        cluster.members[0].proc.kill()
        for s in doomed:  # until the page's own requests go to a live replica
            deadline = time.monotonic() + 60
            while (now := pagedriver.replica_of(s.page)) in ("0", "-", None) and time.monotonic() < deadline:
                time.sleep(0.2)
            s.replica = now
        out["moved_in_s"] = time.monotonic() - t_kill
        out["moved_to"] = dict(sorted(Counter(s.replica for s in doomed).items()))
        for k in range(rounds):
            one_round(people, at_once=True)
            log(f"  round {k + 1} after the kill")
        out["after_on_others"] = summary(others, marks)
        out["after_moved"] = summary(doomed, marks)
        out["kept"] = store.count() - saved_before
        store.close()
    return out


def replica_cpu(cluster) -> float:
    """CPU seconds the cluster's live replicas have used so far."""
    total = 0.0
    for r in cluster.members:
        try:
            t = psutil.Process(r.proc.pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


@contextmanager
def shared_store():
    """A drawings store for every replica: a new PostgreSQL of our own if installed, else a new SQLite file."""
    import os
    import tempfile

    from tools.postgres import NoPostgres, new_database, temporary_server

    before = os.environ.get("DRAWINGS_DB")
    try:
        with temporary_server() as base:
            os.environ["DRAWINGS_DB"] = new_database(base, "drawings")
            yield "PostgreSQL"
    except NoPostgres:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["DRAWINGS_DB"] = f"sqlite:///{tmp}/drawings.sqlite"
            yield "SQLite"
    finally:
        if before is None:
            os.environ.pop("DRAWINGS_DB", None)
        else:
            os.environ["DRAWINGS_DB"] = before


def run(
    url: str, pid: int, sessions: int, seconds: float | None = None, rounds: int | None = None, min_rounds: int = 1,
    log=print, background=None,
) -> dict:
    """Drive `sessions` sessions in turns until `seconds` have passed (and at least `min_rounds` turns are done) or
    `rounds` turns are done; return figures. `background(browser)`, if given, returns a function called before each
    round (other sessions' activity to keep going meanwhile)."""
    with pagedriver.browser() as b:
        people = []
        for i in range(sessions):
            page, _ = pagedriver.open_page(b.new_context(viewport={"width": 1280, "height": 800}), url)
            people.append(Session(digit=i % 10, page=page))
        tick = background(b) if background else (lambda: None)
        start_mb = rss_mb(pid)
        log(f"{sessions} sessions open; server memory {start_mb:.0f} MB")
        cpu0 = cpu_seconds(pid)
        t0, done = time.monotonic(), 0
        while (rounds is None or done < rounds) and (
            seconds is None or time.monotonic() - t0 < seconds or done < min_rounds
        ):
            tick()
            one_round(people)
            done += 1
            log(f"round {done}: {time.monotonic() - t0:.0f} s, {sum(len(s.seen) for s in people)} predictions")
        end_mb = rss_mb(pid)
        wall = time.monotonic() - t0
        server_cpu, browser_cpu = ((b - a) / wall for a, b in zip(cpu0, cpu_seconds(pid)))
    counts = summary(people)
    return {
        "sessions": people,
        "rounds": done,
        "median_ms": counts["median_ms"],
        "worst_ms": counts["worst_ms"],
        "start_mb": start_mb,
        "end_mb": end_mb,
        "server_cpu": server_cpu,  # cores busy on average while the sessions drew
        "browser_cpu": browser_cpu,
    }
