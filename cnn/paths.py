"""Where the project keeps its files: the one place each default path is defined."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS_DIR = ROOT / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "mnist_cnn.pt"
# The dense networks the page compares with the convnet, trained with the same recipe.
DENSE_WEIGHTS = {"dense44": WEIGHTS_DIR / "mnist_dense44.pt", "dense30": WEIGHTS_DIR / "mnist_dense30.pt"}
# Each network's accuracy on MNIST's test digits moved and turned (python -m cnn.robustness --write).
ROBUSTNESS = WEIGHTS_DIR / "robustness.json"


def default_weights(arch: str) -> Path:
    """Where train.py writes, and the page reads, the weights of an architecture."""
    return DENSE_WEIGHTS.get(arch, DEFAULT_WEIGHTS)


def shipped_networks() -> dict[str, Path]:
    """Every network whose weights ship, by the name the page and the benchmarks give it: the convnet, the dense
    networks trained with its recipe, and the same dense networks trained without dropout (the recipe that suits them
    best on validation)."""
    return {
        "convnet": DEFAULT_WEIGHTS,
        **DENSE_WEIGHTS,
        "dense44, no dropout": WEIGHTS_DIR / "mnist_dense44_nodropout.pt",
        "dense30, no dropout": WEIGHTS_DIR / "mnist_dense30_nodropout.pt",
    }
DEFAULT_DATA_DIR = ROOT / "data" / "mnist"
# Visitors' labelled drawings, when they choose to save them (classroom.drawings; $DRAWINGS_DB points elsewhere).
DRAWINGS_DB = ROOT / "data" / "drawings.sqlite"
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
