"""Where the project keeps its files: the one place each default path is defined."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "mnist_cnn.pt"
DEFAULT_DATA_DIR = ROOT / "data" / "mnist"
# Fashion-MNIST's test images as Debian's dataset-fashion-mnist package installs them: non-digits for the tests.
FASHION_MNIST_TEST = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def metadata_path(weights: Path) -> Path:
    """The JSON file of metadata that sits next to a weights file."""
    return Path(weights).with_suffix(".json")


def shown(path: Path | str) -> str:
    """A path as a person would type it: relative to the project when it lies inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)
