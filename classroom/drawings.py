"""The drawings store: visitors' labelled drawings, saved only when they opt in, in SQLite or PostgreSQL.

    DRAWINGS_DB=sqlite:///data/drawings.sqlite     # the default: one file, no set-up (relative to where you start)
    DRAWINGS_DB=postgresql://user@host/drawings    # several servers, one store

Written with SQLAlchemy Core, so the same statements run on both, and no SQL is built from strings. SQLite runs in
WAL mode (readers never wait for a writer) with a busy timeout (writers queue instead of failing) and secure_delete
(a deleted drawing's bytes are overwritten, not just unlinked). On PostgreSQL a deleted row is gone from every
query at once and its space is reclaimed by the server's autovacuum, as PostgreSQL does for every table. Every
failure becomes a StoreError whose message says what happened and what to do; the page turns saving off and goes on
reading digits.
"""

from __future__ import annotations

import hmac
import io
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import sqlalchemy as sa
from PIL import Image

from cnn.data import EXPORT_FILES, IMAGE_SIZE, MnistError, idx_bytes, read_export
from cnn.paths import DEFAULT_WEIGHTS, DRAWINGS_DB, shown

SCHEMA_VERSION = 1
ENV_URL = "DRAWINGS_DB"  # the one setting: where the store is
ENV_TEACHER_KEY = "TEACHER_KEY"  # the secret that unlocks other people's drawings; unset, nobody has it
log = logging.getLogger("drawings")


def sqlite_file(url: sa.URL) -> str | None:
    """The file an SQLite URL names: its path, or a URI's (sqlite:///file:PATH?mode=ro&uri=true) without the
    scheme and query; None for a store in memory. Used where the file itself is made, checked or named."""
    path = url.database
    if path and url.query.get("uri") in ("true", "1") and path.startswith("file:"):
        path = unquote(urlsplit(path).path)
    if not path or path == ":memory:" or url.query.get("mode") == "memory":
        return None
    return path


@dataclass(frozen=True)
class Limits:
    per_session: int = 200  # drawings one visitor can keep: a whole class's worth of digits, several times over
    total: int = 20_000  # drawings in the store: 100 visitors at their limit, about 60 MB of canvases
    png_bytes: int = 32 * 2**10  # a canvas's PNG: a 280 x 280 drawing is 2-15 kB; noise that still reads as a digit
    # would be up to 240 kB, and a class view at the cap would carry all of it


metadata = sa.MetaData()
drawings = sa.Table(
    "drawings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("session", sa.String(32), nullable=False, index=True),  # random, per visit: names nobody
    sa.Column("label", sa.SmallInteger, nullable=False),  # what the visitor says they drew
    sa.Column("prediction", sa.SmallInteger, nullable=False),  # what the network read
    sa.Column("probability", sa.Float, nullable=False),  # its probability of that reading
    sa.Column("weights_sha256", sa.String(64), nullable=False),  # which weights read it
    sa.Column("image", sa.LargeBinary, nullable=False),  # the prepared 28 x 28 input, uint8, row by row
    sa.Column("canvas_png", sa.LargeBinary, nullable=False),
    sa.CheckConstraint("label BETWEEN 0 AND 9", name="label_is_a_digit"),
    sa.CheckConstraint("prediction BETWEEN 0 AND 9", name="prediction_is_a_digit"),
)
schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))


class StoreError(Exception):
    """Saving failed or is off; the message says why and what to do."""


class StoreFull(StoreError):
    """A cap is reached: the visitor's own, or the store's."""


@dataclass(frozen=True)
class Drawing:
    id: int
    created: datetime
    session: str
    label: int
    prediction: int
    probability: float
    weights_sha256: str
    image: np.ndarray  # (28, 28) float32 in [0, 1]
    canvas_png: bytes


def new_session_id() -> str:
    """An anonymous id for one visit: random, tied to nothing about the visitor."""
    return uuid.uuid4().hex


def store_url() -> str:
    """The store's database URL: $DRAWINGS_DB, or the SQLite file under data/."""
    return os.environ.get(ENV_URL) or f"sqlite:///{DRAWINGS_DB}"


def image_bytes(image: np.ndarray) -> bytes:
    """A prepared (28, 28) image in [0, 1] as 784 bytes, as MNIST stores its digits."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE) or not np.isfinite(image).all():
        raise ValueError(f"expected a finite {IMAGE_SIZE} x {IMAGE_SIZE} image, got shape {image.shape}")
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8).tobytes()


def image_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.float32) / 255


def canvas_png(rgba: np.ndarray) -> bytes:
    """The canvas's (H, W, 4) pixels as a PNG, as small as PIL makes it."""
    out = io.BytesIO()
    Image.fromarray(np.asarray(rgba, dtype=np.uint8), "RGBA").save(out, format="PNG", optimize=True)
    return out.getvalue()


def teacher_key_ok(given: str | None, secret: str | None = None) -> bool:
    """Whether `given` is the teacher's key ($TEACHER_KEY unless `secret`), compared in constant time. No key set on
    the server: nobody has it."""
    secret = os.environ.get(ENV_TEACHER_KEY) if secret is None else secret
    if not secret or not given:
        return False
    return hmac.compare_digest(given.encode(), secret.encode())


MIN_KEY_LENGTH = 16  # characters of a teacher's key
MIN_KEY_DISTINCT = 8  # different characters in it
KEY_ADVICE = "python -c 'import secrets; print(secrets.token_urlsafe(18))' prints one"


def key_problem(key: str | None) -> str | None:
    """Why a teacher's key is too easy to guess, in words a person who runs the server can act on; None when it is
    long and varied enough, or when no key is set (then nobody has the teacher's controls)."""
    if not key:
        return None
    if len(key) < MIN_KEY_LENGTH:
        return (f"{ENV_TEACHER_KEY} is {len(key)} characters long, too easy to guess: use at least {MIN_KEY_LENGTH} "
                f"({KEY_ADVICE})")
    if len(set(key)) < MIN_KEY_DISTINCT:
        return (f"{ENV_TEACHER_KEY} uses only {len(set(key))} different characters, too easy to guess: use at least "
                f"{MIN_KEY_DISTINCT} ({KEY_ADVICE})")
    return None


class ClientCap:
    """At most per_client saves from one client address in a `window` of seconds from its first save, so a client
    that reconnects (a new visit, with a new per-visit count) cannot pass the per-visit cap over and over. Memory
    stays bounded: two numbers for each of the `clients` most recent addresses."""

    def __init__(self, per_client: int = 1_000, window: float = 86_400.0, clients: int = 10_000, clock=time.monotonic):
        self.per_client, self.window, self.clients, self.clock = per_client, window, clients, clock
        self._lock = threading.Lock()
        self._saves: dict[str, tuple[float, int]] = {}  # address -> (when its window began, saves in it)

    def take(self, client: str) -> bool:
        """Count one save for `client`; False (nothing counted) when it is at its cap."""
        now = self.clock()
        with self._lock:
            began, count = self._saves.pop(client, (now, 0))
            if now - began >= self.window:
                began, count = now, 0
            ok = count < self.per_client
            self._saves[client] = (began, count + ok)  # the most recent client last
            while len(self._saves) > self.clients:
                del self._saves[next(iter(self._saves))]
            return ok


class KeyGuard:
    """Slows down guesses at the teacher's key, and logs each wrong one.

    A client (an address) waits after each wrong guess, twice as long as after the one before (first_wait seconds, up
    to longest_wait); the server as a whole takes at most per_minute wrong guesses in any minute, whoever sends them.
    A right key clears its client's count. At per_minute = 10 that is at most 14,400 guesses a day per server, against
    a key of 16 characters from 64.
    """

    def __init__(self, first_wait: float = 1.0, longest_wait: float = 300.0, per_minute: int = 10,
                 clients: int = 10_000, clock=time.monotonic):
        self.first_wait, self.longest_wait, self.per_minute = first_wait, longest_wait, per_minute
        self.clients, self.clock = clients, clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (wrong guesses in a row, when it may try next)
        self._recent: list[float] = []  # when the server's wrong guesses of the last minute came
        self.total_wrong = 0

    def check(self, client: str, given: str | None, secret: str | None = None) -> tuple[bool, str | None]:
        """(whether `given` is the key, why not in words); a guess that comes too soon is refused unread."""
        now = self.clock()
        with self._lock:
            count, next_try = self._failures.get(client, (0, 0.0))
            if now < next_try:
                return False, f"Too many wrong keys from here: try again in {next_try - now:.0f} s."
            self._recent = [t for t in self._recent if now - t < 60]
            if len(self._recent) >= self.per_minute:
                return False, "Too many wrong keys on this server in the last minute: try again in a minute."
        if teacher_key_ok(given, secret):
            with self._lock:
                self._failures.pop(client, None)
            return True, None
        with self._lock:
            count += 1
            self.total_wrong += 1
            self._failures.pop(client, None)
            self._failures[client] = (count, now + min(self.first_wait * 2 ** (count - 1), self.longest_wait))
            while len(self._failures) > self.clients:  # the oldest go first: memory stays bounded
                del self._failures[next(iter(self._failures))]
            self._recent.append(now)
            log.warning("teacher's key: wrong guess from %s (%d in a row from there; %d on this server in the last "
                        "minute, %d since it started)", client, count, len(self._recent), self.total_wrong)
        return False, "That is not the teacher's key."


def _explain(e: Exception, where: str) -> str:
    """What a database error means for a person who runs the page."""
    text = str(getattr(e, "orig", e)).lower()
    if "readonly" in text or "read-only" in text or "read only" in text:
        return f"the drawings store ({where}) is read-only, so saving is off: make it writable and reload the page"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"the drawings store ({where}) is damaged, so saving is off: move the file aside (a new one is made) "
                "and reload the page")
    if "disk is full" in text or "no space" in text or "database or disk is full" in text:
        return f"the disk of the drawings store ({where}) is full, so saving is off: free some space and reload"
    if "unable to open" in text or "could not connect" in text or "connection" in text:
        return f"the drawings store ({where}) cannot be reached, so saving is off: check {ENV_URL} and reload"
    return f"the drawings store ({where}) failed ({type(getattr(e, 'orig', e)).__name__}), so saving is off"


class DrawingsStore:
    """One store, shared by every session of a server (thread-safe: SQLAlchemy pools its connections)."""

    def __init__(self, url: str | None = None, limits: Limits = Limits()):
        self.limits = limits
        self.problem: str | None = None  # why saving is off, once it is
        self.opened = time.monotonic()
        self._lock = threading.Lock()
        try:
            self.url = sa.engine.make_url(url or store_url())
        except sa.exc.ArgumentError:
            self.url = None
            self.problem = f"{ENV_URL} is not a database URL (such as sqlite:///data/drawings.sqlite), so saving is off"
            return
        self.where = self._where()
        self._file: tuple[int, int] | None = None  # the SQLite file's (device, inode) when it was opened
        try:
            self.engine = self._engine()
            self._open()
        except sa.exc.SQLAlchemyError as e:
            self.problem = _explain(e, self.where)
        except (OSError, ImportError) as e:
            self.problem = f"the drawings store ({self.where}) cannot be opened ({e}), so saving is off"
        self._file = self._file_now()  # a damaged file too: moved aside, it is replaced by a new one

    def _where(self) -> str:
        if self.url.get_backend_name() == "sqlite":
            return shown(sqlite_file(self.url) or ":memory:")
        return self.url.render_as_string(hide_password=True)

    @property
    def sqlite(self) -> bool:
        return self.url is not None and self.url.get_backend_name() == "sqlite"

    def _engine(self) -> sa.Engine:
        if not self.sqlite:
            return sa.create_engine(self.url, pool_pre_ping=True)
        path = sqlite_file(self.url)
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi, _record):
            cur = dbapi.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")  # a writer waits for another instead of failing
            cur.execute("PRAGMA secure_delete = ON")  # deleted rows' bytes are overwritten
            cur.execute("PRAGMA journal_mode = WAL")  # readers and one writer at once
            cur.close()

        return engine

    def _open(self) -> None:
        """Create the tables on first use; refuse a store written by another schema."""
        with self.engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            found = conn.execute(sa.select(schema_version.c.version)).scalars().all()
            if not found:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            elif found != [SCHEMA_VERSION]:
                self.problem = (f"the drawings store ({self.where}) has schema version {found[0]}, and this page "
                                f"writes version {SCHEMA_VERSION}, so saving is off")

    @property
    def can_save(self) -> bool:
        return self.problem is None

    def _file_now(self) -> tuple[int, int] | None:
        """The SQLite file at the store's path now, as (device, inode); None where there is none or no file."""
        path = sqlite_file(self.url) if self.sqlite else None
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def check_file(self) -> bool:
        """Whether the store is still the file at its path; if that file was deleted or moved aside, a new store is
        opened at the path (a new file), so saves never go into a file that is gone or no longer where it was.
        True when it was reopened."""
        if not self.sqlite or self._file is None or self._file_now() == self._file:
            return False
        with self._lock:
            if self._file_now() == self._file:
                return False
            self.engine.dispose()  # the connections that hold the old file: the last one to close removes its WAL
            self.problem = None
            try:
                self.engine = self._engine()
                self._open()
            except sa.exc.SQLAlchemyError as e:
                self.problem = _explain(e, self.where)
            except OSError as e:
                self.problem = f"the drawings store ({self.where}) cannot be opened ({e}), so saving is off"
            self._file = self._file_now()
            self.opened = time.monotonic()
        return True

    def _fail(self, e: Exception) -> StoreError:
        self.problem = _explain(e, self.where)
        return StoreError(self.problem)

    def save(self, session: str, label: int, prediction: int, probability: float, weights_sha256: str,
             image: np.ndarray, png: bytes) -> int:
        """Save one drawing; its id. StoreFull at a cap (nothing saved), StoreError when saving is off or fails."""
        self.check_file()
        if self.problem:
            raise StoreError(self.problem)
        if not (0 <= int(label) <= 9 and 0 <= int(prediction) <= 9):
            raise ValueError("label and prediction must be digits")
        if len(png) > self.limits.png_bytes:
            raise StoreError(f"this canvas's image is {len(png) // 1024} kB, more than the "
                             f"{self.limits.png_bytes // 1024} kB a drawing may take; it was not saved")
        row = dict(created=datetime.now(timezone.utc), session=session, label=int(label), prediction=int(prediction),
                   probability=float(probability), weights_sha256=weights_sha256, image=image_bytes(image),
                   canvas_png=bytes(png))
        try:
            with self.engine.begin() as conn:
                if not self.sqlite:  # writers one at a time, so two saves at once cannot both pass a cap
                    conn.execute(sa.text("LOCK TABLE drawings IN SHARE ROW EXCLUSIVE MODE"))
                # The insert comes first: on SQLite it takes the write lock, so the counts below see every row.
                new_id = conn.execute(drawings.insert().values(**row)).inserted_primary_key[0]
                total = conn.execute(sa.select(sa.func.count()).select_from(drawings)).scalar_one()
                mine = conn.execute(
                    sa.select(sa.func.count()).select_from(drawings).where(drawings.c.session == session)
                ).scalar_one()
                if mine > self.limits.per_session:
                    conn.rollback()
                    raise StoreFull(f"you have saved {self.limits.per_session} drawings, the most one visitor can "
                                    "keep: delete some under Your drawings to save more")
                if total > self.limits.total:
                    conn.rollback()
                    raise StoreFull(f"the store holds {self.limits.total:,} drawings, all it may: a teacher can "
                                    "delete some; until then nothing more is saved")
            if self.sqlite:  # into the main file at once, so moving that file moves every saved drawing with it
                self._checkpoint()
        except sa.exc.SQLAlchemyError as e:
            raise self._fail(e) from None
        return int(new_id)

    def _checkpoint(self) -> None:
        """SQLite: write the write-ahead log into the database file and empty it."""
        with self._lock, self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def _rows(self, where=None, limit: int | None = None) -> list[Drawing]:
        q = sa.select(drawings).order_by(drawings.c.id.desc())
        if where is not None:
            q = q.where(where)
        if limit is not None:
            q = q.limit(limit)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None
        return [Drawing(r.id, r.created, r.session, r.label, r.prediction, r.probability, r.weights_sha256,
                        image_from_bytes(r.image), bytes(r.canvas_png)) for r in rows]

    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Every drawing's (ids, labels), by id, and nothing else: a few bytes a drawing, however many there are."""
        q = sa.select(drawings.c.id, drawings.c.label).order_by(drawings.c.id)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(q).all()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None
        return (np.fromiter((r[0] for r in rows), np.int64, len(rows)),
                np.fromiter((r[1] for r in rows), np.int64, len(rows)))

    def saved_readings(self, ids, weights_sha256: str, chunk: int = 500) -> dict[int, int]:
        """The readings saved with these drawings (those still there) that the given weights made, by id."""
        ids, out = [int(i) for i in ids], {}
        try:
            with self.engine.connect() as conn:
                for k in range(0, len(ids), chunk):
                    q = sa.select(drawings.c.id, drawings.c.prediction).where(
                        drawings.c.id.in_(ids[k : k + chunk]), drawings.c.weights_sha256 == weights_sha256)
                    out.update((r[0], r[1]) for r in conn.execute(q))
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None
        return out

    def images(self, ids) -> dict[int, np.ndarray]:
        """The prepared 28 x 28 images of the drawings with these ids (those still there), by id."""
        return {i: image_from_bytes(b) for i, b in self._column(drawings.c.image, ids).items()}

    def canvases(self, ids) -> dict[int, bytes]:
        """The canvases' PNGs of the drawings with these ids (those still there), by id."""
        return {i: bytes(b) for i, b in self._column(drawings.c.canvas_png, ids).items()}

    def _column(self, column, ids, chunk: int = 500) -> dict[int, bytes]:
        ids = [int(i) for i in ids]
        out = {}
        try:
            with self.engine.connect() as conn:
                for k in range(0, len(ids), chunk):  # SQLite takes at most 999 values in one IN (...)
                    q = sa.select(drawings.c.id, column).where(drawings.c.id.in_(ids[k : k + chunk]))
                    out.update((r[0], r[1]) for r in conn.execute(q))
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None
        return out

    def listing(self, offset: int = 0, limit: int = 50) -> list[tuple[int, datetime, int, int]]:
        """One page of the drawings, newest first, as (id, created, label, prediction): no images."""
        q = (sa.select(drawings.c.id, drawings.c.created, drawings.c.label, drawings.c.prediction)
             .order_by(drawings.c.id.desc()).offset(max(0, int(offset))).limit(max(0, int(limit))))
        try:
            with self.engine.connect() as conn:
                return [tuple(r) for r in conn.execute(q)]
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None

    def mine(self, session: str) -> list[Drawing]:
        """A visitor's drawings, newest first."""
        return self._rows(drawings.c.session == session)

    def everyone(self, limit: int | None = None) -> list[Drawing]:
        """Every drawing in the store, newest first (the class view)."""
        return self._rows(limit=limit)

    def count(self, session: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(drawings)
        if session is not None:
            q = q.where(drawings.c.session == session)
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(q).scalar_one())
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None

    def delete(self, ids: list[int] | None = None, session: str | None = None) -> int:
        """Delete drawings, really: the ids given (all when None), of one session when given; how many went.

        On SQLite the freed pages are overwritten and the write-ahead log is emptied, so the bytes are gone from
        the files too."""
        q = drawings.delete()
        if session is not None:
            q = q.where(drawings.c.session == session)
        if ids is not None:
            q = q.where(drawings.c.id.in_([int(i) for i in ids]))
        try:
            with self.engine.begin() as conn:
                gone = conn.execute(q).rowcount
            if self.sqlite:
                self._checkpoint()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(_explain(e, self.where)) from None
        return int(gone)

    def close(self) -> None:
        if self.url is not None and hasattr(self, "engine"):
            self.engine.dispose()


# --- export, import, command line -------------------------------------------------------------------------------------


def export_files(rows: list[Drawing]) -> dict[str, bytes]:
    """The collected set as files: MNIST IDX images and labels (oldest first), each canvas as a PNG, and a CSV of
    what the network read. No session ids: the export names nobody, not even a visit."""
    rows = sorted(rows, key=lambda d: d.id)
    images = np.stack([np.frombuffer(image_bytes(d.image), np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE) for d in rows]) \
        if rows else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    files = {
        EXPORT_FILES["images"]: idx_bytes(images),
        EXPORT_FILES["labels"]: idx_bytes(np.array([d.label for d in rows], np.uint8)),
    }
    lines = ["index,id,created,label,prediction,probability,weights_sha256,canvas"]
    for i, d in enumerate(rows):
        name = f"canvases/{i:05d}-{d.label}.png"
        files[name] = d.canvas_png
        lines.append(f"{i},{d.id},{d.created.isoformat()},{d.label},{d.prediction},{d.probability:.6f},"
                     f"{d.weights_sha256},{name}")
    files["drawings.csv"] = ("\n".join(lines) + "\n").encode()
    return files


def export_zip(rows: list[Drawing]) -> bytes:
    """export_files as one zip, for the page's download."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in export_files(rows).items():
            z.writestr(f"drawings/{name}", data)
    return out.getvalue()


def write_export(rows: list[Drawing], out: str | Path) -> Path:
    out = Path(out)
    for name, data in export_files(rows).items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    return out


def read_collected(source: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) float images in [0, 1] and (N,) labels from an export folder or a store's URL."""
    text = str(source)
    if "://" in text:
        try:
            url = sa.engine.make_url(text)
        except sa.exc.ArgumentError:
            raise StoreError(f"{text} is not a database URL") from None
        path = sqlite_file(url) if url.get_backend_name() == "sqlite" else None
        if path and not Path(path).is_file():
            raise StoreError(f"no drawings store at {shown(path)}")
        store = DrawingsStore(text)
        try:
            rows = store.everyone()
        finally:
            store.close()
        if not rows:
            return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32), np.zeros(0, np.int64)
        return np.stack([d.image for d in rows]), np.array([d.label for d in rows], np.int64)
    return read_export(source)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m classroom.drawings",
                                description="The collected drawings: count, export or score weights on them.")
    p.add_argument("--db", help=f"database URL (default: ${ENV_URL}, else sqlite:///data/drawings.sqlite)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("count", help="how many drawings the store holds, per label")
    sub.add_parser("check-key", help=f"refuse a {ENV_TEACHER_KEY} that is too easy to guess (exit 1, saying why)")
    exp = sub.add_parser("export", help="write the drawings as MNIST IDX files plus each canvas as a PNG")
    exp.add_argument("--out", required=True, help="folder to write into (made if missing)")
    ev = sub.add_parser("evaluate", help="score weights on the store's drawings: accuracy, per digit, confusions")
    ev.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="weights file (default: %(default)s)")
    args = p.parse_args(argv)
    if args.command == "check-key":
        problem = key_problem(os.environ.get(ENV_TEACHER_KEY))
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        return 0
    if args.command == "evaluate":
        # The network is loaded only here, so that the other commands start without torch.
        from cnn.evaluate import print_drawings
        from cnn.model import WeightsError, load

        source = args.db or store_url()
        try:
            model = load(args.weights)
            images, labels = read_collected(source)
        except (WeightsError, MnistError, StoreError, OSError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print_drawings(model, images, labels, source)
        return 0
    store = DrawingsStore(args.db)
    try:
        if store.url is None:
            print(f"error: {store.problem}", file=sys.stderr)
            return 2
        try:
            rows = store.everyone()
        except StoreError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        if args.command == "count":
            per = np.bincount([d.label for d in rows], minlength=10)
            print(f"{len(rows)} drawings in {store.where}: " + ", ".join(f"{d}: {n}" for d, n in enumerate(per)))
        else:
            out = write_export(rows, args.out)
            print(f"wrote {len(rows)} drawings to {out}: {EXPORT_FILES['images']}, {EXPORT_FILES['labels']}, "
                  "drawings.csv, canvases/")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
