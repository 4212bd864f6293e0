"""The class and teacher views at the drawings store's cap: time and memory, on SQLite and on PostgreSQL.

Fills a new store with Limits().total drawings (MNIST test digits, each with a real canvas PNG of a drawn digit and
the reading the page saves with it), then times, each on its own:

- the class view's data: every drawing's label and each network's reading, cold (a new server: the convnet's saved
  readings reused, the dense network reading every drawing once) and warm (the next view), and after 10 new saves;
- the whole "Your drawings and the class's" part rendered by the page (Streamlit's AppTest), twice;
- one page of the teacher's list, and the count.

Memory is the Python heap's peak above where it began (tracemalloc: numpy's arrays included), and the process's
resident size before and after. With --old, the way the class view read the store before (every row, canvas
included, and both networks on every drawing) is timed too, for the ratio.

    python bench/class_view.py [--backend sqlite|postgresql|both] [--drawings 20000] [--old]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

from classroom.collected import ClassReadings, class_report, predictions_report  # noqa: E402
from classroom.drawings import DrawingsStore, Limits, canvas_png, drawings, image_bytes  # noqa: E402
from cnn.data import file_sha256, load_split  # noqa: E402
from cnn.model import load, page_reading  # noqa: E402
from cnn.paths import DEFAULT_WEIGHTS, shipped_networks  # noqa: E402
from cnn.strokes import draw_digit  # noqa: E402

PART = "Your drawings and the class's"


@contextmanager
def measured(what: str, results: dict):
    """Time and the heap's peak of the block, into results[what]."""
    gc.collect()
    tracemalloc.start()
    rss = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[what] = (seconds, peak / 2**20, (psutil.Process().memory_info().rss - rss) / 2**20)


def fill(store: DrawingsStore, n: int, sha: str) -> None:
    """n drawings in the store, in batches: MNIST test digits and the convnet's page reading of each."""
    images, labels = load_split("test")
    net = load()
    pngs = [canvas_png(draw_digit(d)) for d in range(10)]
    now = datetime.now(timezone.utc)
    done, batch = 0, 1000
    while done < n:
        k = np.arange(done, min(n, done + batch)) % len(labels)
        x = images[k].astype(np.float32) / 255
        read = page_reading(net, x).argmax(1)
        rows = [dict(created=now, session=f"{i // 200:032x}", label=int(labels[j]), prediction=int(p), probability=0.9,
                     weights_sha256=sha, image=image_bytes(im), canvas_png=pngs[int(labels[j])])
                for i, j, im, p in zip(range(done, done + len(k)), k, x, read)]
        with store.engine.begin() as conn:
            conn.execute(drawings.insert(), rows)
        done += len(k)
        print(f"\r  filled {done:,} of {n:,}", end="", flush=True)
    print()


def page_run(url: str):
    """The part rendered by the page itself, as a visitor who opens it would have it run."""
    from streamlit.testing.v1 import AppTest

    from ui.chapters import CHAPTER, chapter_of

    os.environ["DRAWINGS_DB"] = url
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.query_params[CHAPTER] = chapter_of(PART).slug
    at.run()
    assert not at.exception, at.exception
    return at


def bench(url: str, n: int, old: bool) -> dict:
    store = DrawingsStore(url, Limits(total=max(n, Limits().total)))
    assert store.can_save, store.problem
    sha = file_sha256(DEFAULT_WEIGHTS)
    fill(store, n, sha)
    nets = {name: load(shipped_networks()[name]) for name in ("convnet", "dense44")}
    results: dict = {}
    readings = ClassReadings()
    with measured("class view data, cold", results):
        ids, labels, read = readings.update(store, nets, reuse=("convnet", sha))
        reports = {name: predictions_report(p, labels) for name, p in read.items()}
    assert len(ids) == n
    with measured("class view data, warm", results):
        ids, labels, read = readings.update(store, nets, reuse=("convnet", sha))
        reports = {name: predictions_report(p, labels) for name, p in read.items()}
    pngs = [canvas_png(draw_digit(d)) for d in range(10)]
    images = load_split("test")[0][:10].astype(np.float32) / 255
    for d in range(10):  # ten visitors save one more drawing each
        with store.engine.begin() as conn:
            conn.execute(drawings.insert().values(
                created=datetime.now(timezone.utc), session=f"{d:032x}", label=d, prediction=d, probability=0.9,
                weights_sha256="00" * 32, image=image_bytes(images[d]), canvas_png=pngs[d]))
    with measured("class view data, 10 new drawings", results):
        readings.update(store, nets, reuse=("convnet", sha))
    with measured("the page's part, first view", results):
        page_run(url)
    with measured("the page's part, next view", results):
        page_run(url)
    with measured("teacher: count and one page of the list", results):
        store.count()
        store.listing(0, 100)
    if old:
        with measured("before: every row and both networks on every drawing", results):
            everyone = store.everyone()
            class_report(nets, np.stack([d.image for d in everyone]), np.array([d.label for d in everyone]))
            del everyone
    store.close()
    print(f"  convnet on the class's drawings: {reports['convnet']['accuracy']:.2%} of {len(ids):,}")
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--drawings", type=int, default=Limits().total, help="how many to fill (default: the cap)")
    p.add_argument("--old", action="store_true", help="also time the class view's old way, for the ratio")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # as the page reads: one thread a server
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                server = nullcontext(f"sqlite:///{Path(tmp) / 'drawings.sqlite'}")
            else:
                from tools.postgres import new_database, temporary_server

                server = temporary_server()
            with server as base:
                url = base if backend == "sqlite" else new_database(base, "drawings")
                print(f"{backend}: {args.drawings:,} drawings")
                results = bench(url, args.drawings, args.old)
        print(f"  {'':45} {'seconds':>8} {'heap peak MB':>13} {'RSS change MB':>14}")
        for what, (seconds, peak, rss) in results.items():
            print(f"  {what:45} {seconds:8.2f} {peak:13.1f} {rss:14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
