"""The drawings store: saving, caps, concurrency, deletion that deletes, broken stores, and the teacher's key.

Every test that is not about SQLite's files runs twice: on SQLite, and on a real PostgreSQL server that the tests
start themselves (tools/postgres.py; skipped with the reason where Debian's postgresql is not installed, an error on
CI)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading

import numpy as np
import pytest

from classroom.drawings import (
    SCHEMA_VERSION, DrawingsStore, Limits, StoreError, StoreFull, canvas_png, image_bytes, image_from_bytes,
    new_session_id, teacher_key_ok,
)
from cnn.paths import shown


def a_drawing(seed: int = 0) -> tuple[np.ndarray, bytes]:
    rng = np.random.default_rng(seed)
    image = (rng.random((28, 28)) > 0.8).astype(np.float32)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[100:180, 120 + seed % 40 : 140 + seed % 40, :3] = 255  # a bar, different for each seed
    return image, canvas_png(rgba)


def save(store, session, label=3, seed=0, prediction=3):
    image, png = a_drawing(seed)
    return store.save(session, label, prediction, 0.9, "ab" * 32, image, png)


_databases = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.full)])
def url(request, tmp_path) -> str:
    """A new, empty store's URL: a SQLite file, or a new database on the tests' PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'd.sqlite'}"
    from tools.postgres import new_database

    return new_database(request.getfixturevalue("postgres_base"), f"drawings_{next(_databases)}")


@pytest.fixture
def store(url):
    s = DrawingsStore(url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = DrawingsStore(f"sqlite:///{tmp_path / 'd.sqlite'}")
    yield s
    s.close()


def test_a_drawing_comes_back_as_it_was_saved(store):
    image, png = a_drawing(1)
    me = new_session_id()
    i = store.save(me, 4, 9, 0.75, "cd" * 32, image, png)
    (d,) = store.mine(me)
    assert (d.id, d.session, d.label, d.prediction, d.probability, d.weights_sha256) == (i, me, 4, 9, 0.75, "cd" * 32)
    np.testing.assert_allclose(d.image, np.round(image * 255) / 255)
    assert d.canvas_png == png and d.created.year >= 2024
    assert store.mine(new_session_id()) == [] and store.count() == 1


def test_images_round_trip_as_mnist_bytes():
    image = np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28)
    data = image_bytes(image)
    assert len(data) == 784 and data[0] == 0 and data[-1] == 255
    np.testing.assert_allclose(image_from_bytes(data), image, atol=0.5 / 255)
    with pytest.raises(ValueError):
        image_bytes(np.zeros((28, 27)))


def test_the_store_is_in_wal_mode_with_its_schema_version(sqlite_store, tmp_path):
    save(sqlite_store, "s")
    with sqlite3.connect(tmp_path / "d.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_a_store_of_another_schema_version_is_not_written(url):
    import sqlalchemy as sa

    first = DrawingsStore(url)
    with first.engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 99"))
    first.close()
    s = DrawingsStore(url)
    assert not s.can_save and "schema version 99" in s.problem
    with pytest.raises(StoreError, match="schema version 99"):
        save(s, "s")


def test_twenty_sessions_saving_at_once_lose_no_row(url):
    DrawingsStore(url).close()  # created once; then 20 servers' worth of connections write at the same moment
    sessions, each, errors = [new_session_id() for _ in range(20)], 10, []
    start = threading.Barrier(len(sessions))

    def visitor(session: str) -> None:
        s = DrawingsStore(url)  # its own engine: as separate processes would
        start.wait()
        try:
            for k in range(each):
                save(s, session, label=k, seed=k)
        except Exception as e:  # noqa: BLE001: any failure is what the test reports
            errors.append(repr(e))
        finally:
            s.close()

    threads = [threading.Thread(target=visitor, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = DrawingsStore(url)
    assert errors == []
    assert s.count() == len(sessions) * each
    assert all(sorted(d.label for d in s.mine(x)) == list(range(each)) for x in sessions)


def test_the_caps_hold_with_a_clear_message_even_when_saving_at_once(url):
    s = DrawingsStore(url, Limits(per_session=3, total=5))
    for k in range(3):
        save(s, "a", seed=k)
    with pytest.raises(StoreFull, match="you have saved 3 drawings.*delete some"):
        save(s, "a")
    assert s.count("a") == 3 and s.can_save  # a cap is not a broken store
    results = []

    def one(session):
        try:
            results.append(save(s, session))
        except StoreFull as e:
            results.append(str(e))

    threads = [threading.Thread(target=one, args=(f"s{k}",)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.count() == 5  # exactly the cap, not one more
    assert sum(isinstance(r, str) and "holds 5 drawings" in r for r in results) == 4
    s.delete([d.id for d in s.mine("a")][:1], session="a")
    save(s, "b")  # room again


def test_a_huge_canvas_image_is_refused(url):
    s = DrawingsStore(url, Limits(png_bytes=1000))
    image, png = a_drawing()
    with pytest.raises(StoreError, match="kB"):
        s.save("a", 1, 1, 0.5, "x" * 64, image, png + bytes(1000))
    assert s.count() == 0 and s.can_save


def test_a_visitor_deletes_their_own_drawings_and_nobody_elses(store):
    mine = [save(store, "me", seed=k) for k in range(3)]
    theirs = save(store, "them")
    assert store.delete(mine[:1], session="them") == 0  # one visitor cannot delete another's drawing
    assert store.delete(mine[:2], session="me") == 2
    assert [d.id for d in store.mine("me")] == mine[2:] and store.count() == 2
    assert store.delete(session="me") == 1
    assert [d.id for d in store.everyone()] == [theirs]
    assert store.delete() == 1 and store.count() == 0  # everything (the teacher's control)


def test_deleting_deletes_the_bytes_from_the_files(sqlite_store, tmp_path):
    store = sqlite_store
    image, _ = a_drawing()
    marker = b"drawing-bytes-" + os.urandom(16).hex().encode()
    mine = store.save("me", 2, 2, 0.9, "x" * 64, image, marker * 20)
    theirs = save(store, "them")
    files = lambda: b"".join(p.read_bytes() for p in tmp_path.glob("d.sqlite*"))  # noqa: E731
    assert marker in files()
    assert store.delete([mine], session="them") == 0  # one visitor cannot delete another's drawing
    assert store.delete([mine], session="me") == 1
    assert marker not in files()
    assert [d.id for d in store.everyone()] == [theirs]
    assert store.delete(session="them") == 1 and store.count() == 0


def test_a_corrupt_store_turns_saving_off_with_a_message(tmp_path):
    path = tmp_path / "d.sqlite"
    path.write_bytes(os.urandom(8192))
    s = DrawingsStore(f"sqlite:///{path}")
    assert not s.can_save and "damaged" in s.problem and "move the file aside" in s.problem
    with pytest.raises(StoreError, match="damaged"):
        save(s, "a")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; the test below covers it another way")
def test_a_read_only_store_file_turns_saving_off(tmp_path):
    path = tmp_path / "d.sqlite"
    save(DrawingsStore(f"sqlite:///{path}"), "a")
    path.chmod(0o444)
    s = DrawingsStore(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="read-only"):
        save(s, "a")


def test_a_read_only_store_turns_saving_off_and_can_still_be_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "d.sqlite"
    first = DrawingsStore(f"sqlite:///{path}")
    save(first, "a")
    first.close()
    s = DrawingsStore(f"sqlite:///file:{path}?mode=ro&uri=true")  # what a read-only mount or file gives
    with pytest.raises(StoreError, match="read-only"):
        save(s, "a")
    assert not s.can_save and "read-only" in s.problem
    assert [d.label for d in s.mine("a")] == [3]
    assert s.where == shown(path) and s.check_file() is False  # the URI's file, watched like any other
    assert not (tmp_path / "file:").exists()  # no folder made in the working directory from the URI's scheme


def test_an_unreachable_or_wrong_url_turns_saving_off(tmp_path):
    s = DrawingsStore("not a url")
    assert not s.can_save and "DRAWINGS_DB is not a database URL" in s.problem
    blocked = tmp_path / "file"
    blocked.write_text("")
    s = DrawingsStore(f"sqlite:///{blocked / 'd.sqlite'}")  # its folder cannot be made
    assert not s.can_save and "saving is off" in s.problem
    from tools.pagedriver import free_port

    s = DrawingsStore(f"postgresql://postgres@127.0.0.1:{free_port()}/drawings")  # no server there
    assert not s.can_save and "cannot be reached" in s.problem and "DRAWINGS_DB" in s.problem
    with pytest.raises(StoreError, match="cannot be reached"):
        save(s, "a")


def test_the_teachers_key_is_compared_in_constant_time_and_needed():
    assert teacher_key_ok("s3cret key", "s3cret key")
    assert not teacher_key_ok("s3cret kez", "s3cret key")
    assert not teacher_key_ok("", "s3cret key") and not teacher_key_ok(None, "s3cret key")
    assert not teacher_key_ok("anything", "")  # no key set on the server: nobody has it

def test_the_teachers_key_goes_through_a_constant_time_compare(monkeypatch):
    import hmac

    seen = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    assert teacher_key_ok("guess", "secret") is False and seen == [(b"guess", b"secret")]
    monkeypatch.setenv("TEACHER_KEY", "from the server")
    assert teacher_key_ok("from the server") and not teacher_key_ok("from the browser")


def test_a_full_disk_turns_saving_off_with_a_message(sqlite_store, tmp_path):
    import sqlalchemy as sa

    store = sqlite_store
    save(store, "a")
    pages = sqlite3.connect(tmp_path / "d.sqlite").execute("PRAGMA page_count").fetchone()[0]
    sa.event.listen(store.engine, "connect", lambda c, _r: c.execute(f"PRAGMA max_page_count = {pages}"))
    store.engine.dispose()  # new connections: the database cannot grow, as on a full disk
    image, png = a_drawing()
    with pytest.raises(StoreError, match="full"):
        store.save("a", 1, 1, 0.5, "x" * 64, image, png * 30)
    assert not store.can_save and "full" in store.problem
    assert [d.label for d in store.mine("a")] == [3]  # what was saved is still there


def test_an_export_reads_back_through_the_projects_idx_reader(store, tmp_path):
    from classroom.drawings import main, read_collected
    from cnn.data import EXPORT_FILES, read_pair

    saved = [save(store, "a", label=d, seed=d) for d in (4, 1, 7)]
    out = tmp_path / "export"
    assert main(["--db", str(store.url), "export", "--out", str(out)]) == 0
    images, labels = read_pair(out / EXPORT_FILES["images"], out / EXPORT_FILES["labels"])
    assert labels.tolist() == [4, 1, 7] and images.dtype == np.uint8 and images.shape == (3, 28, 28)
    for i, d in enumerate(sorted(store.everyone(), key=lambda d: d.id)):
        np.testing.assert_array_equal(images[i], np.round(d.image * 255).astype(np.uint8))
        assert (out / "canvases" / f"{i:05d}-{d.label}.png").read_bytes() == d.canvas_png
    csv = (out / "drawings.csv").read_text().splitlines()
    assert len(csv) == 4 and csv[1].startswith(f"0,{saved[0]},") and "a" * 3 not in csv[1]  # no session ids
    x, y = read_collected(out)
    x2, y2 = read_collected(str(store.url))
    assert y.tolist() == [4, 1, 7] and sorted(y2.tolist()) == [1, 4, 7] and x.shape == x2.shape == (3, 28, 28)


def test_the_command_line_counts_and_refuses_what_is_not_a_store(store, tmp_path, capsys):
    from classroom.drawings import main, read_collected

    save(store, "a", label=2)
    assert main(["--db", str(store.url), "count"]) == 0
    assert "1 drawings in" in capsys.readouterr().out
    assert main(["--db", "not a url", "count"]) == 2 and "not a database URL" in capsys.readouterr().err
    with pytest.raises(StoreError, match="no drawings store"):
        read_collected(f"sqlite:///{tmp_path / 'missing.sqlite'}")


def test_weights_are_scored_on_collected_drawings(store, tmp_path, capsys):
    from classroom.drawings import main as drawings_command
    from cnn import evaluate
    from cnn.preprocess import canvas_to_mnist
    from cnn.strokes import draw_digit

    for d in (0, 3, 6):
        image = canvas_to_mnist(draw_digit(d))
        store.save("a", d, d, 0.9, "x" * 64, image, b"png")
    assert drawings_command(["--db", str(store.url), "evaluate"]) == 0
    out = capsys.readouterr().out
    assert "accuracy on 3 collected drawings: 100.0000% (3/3)" in out and "most confused: none" in out
    assert drawings_command(["--db", str(store.url), "export", "--out", str(tmp_path / "ex")]) == 0
    capsys.readouterr()
    assert evaluate.main(["--drawings", str(tmp_path / "ex")]) == 0  # an export reads as the store does
    assert capsys.readouterr().out == out
    assert evaluate.main(["--drawings", str(tmp_path / "nowhere")]) == 1
    assert "nowhere" in capsys.readouterr().err
    assert evaluate.main(["--drawings", str(store.url)]) == 1  # cnn/ reads exports only, and says where a store is read
    assert "python -m classroom.drawings" in capsys.readouterr().err
    assert drawings_command(["--db", f"sqlite:///{tmp_path / 'missing.sqlite'}", "evaluate"]) == 1
    assert "no drawings store" in capsys.readouterr().err


@pytest.mark.full  # minutes of training or measuring: the full tier
def test_exported_drawings_join_the_training_split(store, tmp_path, mnist_dir):
    import json

    from classroom.drawings import main
    from cnn import train

    for d in range(5):
        save(store, "a", label=d, seed=d)
    main(["--db", str(store.url), "export", "--out", str(tmp_path / "ex")])
    out = tmp_path / "w.pt"
    args = ["--limit", "300", "--epochs", "1", "--test-limit", "500", "--data-dir", str(mnist_dir), "--no-progress",
            "--out", str(out)]
    assert train.main([*args, "--extra-data", str(tmp_path / "ex")]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["train_samples"] == 270 + 5 and meta["val_samples"] == 30
    assert meta["extra_data"]["drawings"] == 5
    assert train.main([*args, "--extra-data", str(tmp_path / "missing")]) == 1
    assert train.main([*args, "--extra-data", str(store.url)]) == 1  # a store is exported first


@pytest.mark.parametrize("how", ["deleted", "moved aside"])
def test_a_save_after_the_file_is_deleted_or_moved_goes_into_a_new_file_at_the_path(tmp_path, how):
    """Saves went into a deleted file (lost at the next restart, 3 of 3) or into the moved one, while the page said
    "saved on the server"; moving a damaged file aside (the page's advice) did not help while the server ran."""
    path = tmp_path / "d.sqlite"
    store = DrawingsStore(f"sqlite:///{path}")
    me = new_session_id()
    save(store, me, seed=1)
    if how == "deleted":
        for f in tmp_path.glob("d.sqlite*"):
            f.unlink()
    else:
        path.rename(tmp_path / "old.sqlite")
    ids = [save(store, me, seed=s) for s in (2, 3, 4)]
    store.close()
    fresh = DrawingsStore(f"sqlite:///{path}")  # as after a restart
    assert fresh.count() == 3 and sorted(d.id for d in fresh.mine(me)) == sorted(ids)
    fresh.close()
    if how == "moved aside":
        with sqlite3.connect(tmp_path / "old.sqlite") as old:
            assert old.execute("SELECT count(*) FROM drawings").fetchone() == (1,)  # the moved file kept its own


def test_a_damaged_file_moved_aside_is_replaced_while_the_server_runs(tmp_path):
    path = tmp_path / "d.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    store = DrawingsStore(f"sqlite:///{path}")
    assert not store.can_save and "move the file aside" in store.problem
    path.rename(tmp_path / "broken.sqlite")
    save(store, new_session_id())
    assert store.can_save and store.count() == 1
    store.close()


class Counting:
    """A store that counts what a class view fetches from it: images and canvases, by drawing."""

    def __init__(self, store):
        self.store, self.images_read, self.canvases_read = store, 0, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def images(self, ids):
        out = self.store.images(ids)
        self.images_read += len(out)
        return out

    def canvases(self, ids):
        out = self.store.canvases(ids)
        self.canvases_read += len(out)
        return out


def test_the_class_readings_agree_with_reading_every_drawing_and_read_each_drawing_once(store):
    """The class view once read every row (canvas included) and ran both networks on every drawing, on every run:
    20 s and 1.3 GB at the store's cap. Now it reads the ids, labels and saved readings, and only new drawings."""
    from classroom.collected import ClassReadings, class_report, predictions_report
    from cnn.model import load, page_reading

    net = load()
    me = new_session_id()
    for seed in range(12):
        image, png = a_drawing(seed)
        store.save(me, seed % 10, int(page_reading(net, image).argmax()), 0.9, "ab" * 32, image, png)
    counting = Counting(store)
    readings = ClassReadings(chunk=5)
    ids, labels, read = readings.update(counting, {"convnet": net})
    everyone = store.everyone()[::-1]  # by id
    full = class_report({"convnet": net}, np.stack([d.image for d in everyone]), np.array([d.label for d in everyone]))
    assert ids.tolist() == [d.id for d in everyone] and read["convnet"].tolist() == full["convnet"]["predicted"]
    mine = predictions_report(read["convnet"], labels)
    for key in ("accuracy", "confusion", "per_class_accuracy", "per_digit_count", "confused_pairs"):
        assert mine[key] == full["convnet"][key], key
    assert counting.images_read == 12 and counting.canvases_read == 0
    save(store, me, label=4, seed=30)
    store.delete([int(ids[0])])
    ids2, _, read2 = readings.update(counting, {"convnet": net})
    assert counting.images_read == 13 and len(ids2) == 12 and int(ids[0]) not in ids2.tolist()
    again = ClassReadings()  # after a restart: the saved readings of the same weights are taken as read
    ids3, _, read3 = again.update(counting, {"convnet": net}, reuse=("convnet", "ab" * 32))
    assert counting.images_read == 13 and read3["convnet"].tolist() == [d.prediction for d in store.everyone()[::-1]]


def test_a_png_larger_than_a_real_drawing_is_refused(sqlite_store):
    """Real drawings are 2-15 kB; noise PNGs of 240 kB, which still read as digits, were accepted under 256 kB."""
    from cnn.strokes import draw_digit

    real = max(len(canvas_png(draw_digit(d, size=280))) for d in range(10))
    assert real < sqlite_store.limits.png_bytes // 2
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (280, 280, 4), dtype=np.uint8)
    noise[..., 3] = 255
    png = canvas_png(noise)
    assert len(png) > 100 * 1024
    with pytest.raises(StoreError, match="more than the 32 kB a drawing may take"):
        sqlite_store.save(new_session_id(), 1, 1, 0.9, "ab" * 32, a_drawing()[0], png)
    assert sqlite_store.count() == 0


def test_the_teachers_listing_pages_through_the_drawings_without_images(store):
    me = new_session_id()
    ids = [save(store, me, label=i % 10, seed=i) for i in range(7)]
    first, second = store.listing(0, 4), store.listing(4, 4)
    assert [r[0] for r in first + second] == ids[::-1]
    assert all(len(r) == 4 and r[2] in range(10) for r in first)
