"""The atlas of training digits (cnn/atlas.py): its search against brute force in numpy, the shipped atlas's flag on
real digits and on the project's non-digits, bad files, and the first screen's words for a drawing that is no digit."""

from __future__ import annotations

import numpy as np
import pytest

from cnn import atlas as atlas_module
from cnn.atlas import AtlasError, atlas_path, build, embed, load_atlas, nearest_in_pixels, neighbours, not_a_digit, save
from cnn.data import file_sha256, to_float
from cnn.model import ConvNet, load
from cnn.non_digits import non_digit_sets
from cnn.paths import DEFAULT_WEIGHTS
from cnn.preprocess import canvas_to_mnist
from cnn.strokes import draw_digit, jittered_digit
from tests.helpers.page import metric, run_app


@pytest.fixture(scope="module")
def net():
    return load(DEFAULT_WEIGHTS)


@pytest.fixture(scope="module")
def shipped():
    return load_atlas(atlas_path(DEFAULT_WEIGHTS), file_sha256(DEFAULT_WEIGHTS))


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """An atlas of 300 random 'digits' for an untrained network, built as the shipped one is: fast, and wrong."""
    rng = np.random.default_rng(0)
    model = ConvNet().eval()
    images = (rng.random((400, 28, 28)) * 255).astype(np.uint8)
    labels = rng.integers(0, 10, 400).astype(np.uint8)
    return model, build(model, images, labels, to_float(images[:100]), "0" * 64, size=300, seed=1)


def test_the_nearest_are_nearest_by_cosine_distance_as_numpy_measures_it(small):
    model, atlas = small
    rng = np.random.default_rng(2)
    queries = rng.random((5, 28, 28)).astype(np.float32)
    e = embed(model, queries, atlas.projection)
    rows, dist = neighbours(atlas, e, 8)
    # numpy, from the features themselves: scaled to length 1, projected, scaled again; cosine distances to all
    f = model.features(__import__("torch").as_tensor(queries[:, None])).detach().numpy()
    f = f / np.linalg.norm(f, axis=1, keepdims=True)
    z = f @ atlas.projection
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    d = 1 - z @ atlas.features.T
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :8], atol=1e-5)
    np.testing.assert_array_equal(rows[:, 0], d.argmin(axis=1))
    kth = np.sort(d, axis=1)[:, atlas_module.NEIGHBOUR - 1]
    np.testing.assert_allclose(atlas_module.scores(atlas, e), kth, atol=1e-5)


def test_the_nearest_in_pixels_are_nearest_by_euclidean_distance(small):
    _, atlas = small
    image = np.random.default_rng(3).random((28, 28)).astype(np.float32)
    rows, dist = nearest_in_pixels(atlas, image, 8)
    d = np.sqrt(((atlas.images.reshape(len(atlas), -1) / 255 - image.reshape(1, -1)) ** 2).sum(1))
    np.testing.assert_array_equal(rows, np.argsort(d)[:8])
    np.testing.assert_allclose(dist, np.sort(d)[:8], rtol=1e-5)


def test_the_threshold_flags_the_chosen_share_of_the_validation_digits(small):
    model, atlas = small
    rng = np.random.default_rng(0)
    # build() drew the same 400 images; the first 100, as floats, were its validation digits
    images = (rng.random((400, 28, 28)) * 255).astype(np.uint8)
    flagged = atlas_module.scores(atlas, embed(model, to_float(images[:100]), atlas.projection)) > atlas.threshold
    assert flagged.sum() == round(100 * atlas_module.FALSE_FLAGS)  # 0.75 of 100 rounds to 1 above the quantile


def test_a_saved_atlas_reads_back_and_bad_files_say_how_to_rebuild(small, tmp_path):
    model, atlas = small
    path = tmp_path / "net.atlas.npz"
    save(atlas, path)
    again = load_atlas(path, "0" * 64)
    np.testing.assert_array_equal(again.images, atlas.images)
    np.testing.assert_allclose(again.features, atlas.features, atol=1e-3)  # stored as float16
    assert again.threshold == atlas.threshold and list(tmp_path.iterdir()) == [path]  # no .part left behind
    with pytest.raises(AtlasError, match="built for other weights.*python cnn/atlas.py"):
        load_atlas(path, "1" * 64)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(AtlasError, match="cannot be read.*python cnn/atlas.py"):
        load_atlas(path)
    with pytest.raises(AtlasError, match="no atlas"):
        load_atlas(tmp_path / "none.atlas.npz")
    with pytest.raises(ValueError, match="both"):
        not_a_digit(np.zeros((1, 28, 28), np.float32), model=model)


def test_the_shipped_atlas_holds_training_digits_only(shipped, mnist_test):
    from cnn.data import load_split

    train, labels = load_split("train", fetch=False)
    assert len(shipped) == atlas_module.ATLAS_SIZE and shipped.indices.max() < atlas_module.FIT_DIGITS
    np.testing.assert_array_equal(shipped.images, train[shipped.indices])
    np.testing.assert_array_equal(shipped.labels, labels[shipped.indices])


def test_the_shipped_flag_spares_digits_and_catches_the_projects_non_digits(mnist_test):
    """The rates bench/not_a_digit.py reports in full; here on fewer images, with room for chance."""
    images, _ = mnist_test
    digits = float(not_a_digit(to_float(images[:3000])).mean())
    rng = np.random.default_rng(11)
    drawn = np.stack([canvas_to_mnist(jittered_digit(d % 10, rng)) for d in range(300)])
    sets = non_digit_sets(60, seed=11)
    rates = {name: float(not_a_digit(x).mean()) for name, x in sets.items()}
    print(f"\nflagged: MNIST test {digits:.2%}, drawn digits {not_a_digit(drawn).mean():.2%}, "
          + ", ".join(f"{k} {v:.0%}" for k, v in rates.items()))
    assert digits < 0.02
    assert not_a_digit(drawn).mean() < 0.03
    assert rates["scribbles"] > 0.75 and rates["handwritten letters"] > 0.6 and rates["symbols"] > 0.4


def test_the_first_screen_says_when_a_drawing_is_no_digit_and_what_it_would_answer():
    from cnn.non_digits import handwritten_letter

    letter = handwritten_letter("E", np.random.default_rng(5))
    assert not_a_digit(canvas_to_mnist(letter)[None])[0]
    at = run_app(letter)
    assert not at.exception
    said = [w.value for w in at.warning if "does not look like any digit" in w.value]
    assert len(said) == 1 and f"Otherwise it would answer **{metric(at, 'Prediction')}**" in said[0]
    assert "must always choose one of the ten digits" in said[0] and "20,000 training digits" in said[0]
    at = run_app(draw_digit(3))
    assert metric(at, "Prediction") == "3"
    assert not [w for w in at.warning if "does not look like any digit" in w.value]


def test_without_an_atlas_the_page_reads_on_and_checks_nothing(tmp_path, monkeypatch):
    from cnn import paths
    from cnn.non_digits import handwritten_letter

    weights = tmp_path / "mnist_cnn.pt"
    weights.write_bytes(DEFAULT_WEIGHTS.read_bytes())
    paths.metadata_path(weights).write_bytes(paths.metadata_path(DEFAULT_WEIGHTS).read_bytes())
    monkeypatch.setattr(paths, "DEFAULT_WEIGHTS", weights)
    at = run_app(handwritten_letter("E", np.random.default_rng(5)))
    assert not at.exception and metric(at, "Prediction") is not None
    assert not [w for w in at.warning if "does not look like any digit" in w.value]


def test_the_part_shows_the_nearest_training_digits_by_the_distances_it_states(shipped, net):
    """Among the digits it knows, in AppTest: each row's captions are the labels and distances of the 8 nearest
    atlas digits, found here again by brute force in numpy (features) and in pixels."""
    import re

    import torch

    drawn = draw_digit(3)
    at = run_app(drawn, part="Among the digits it knows")
    assert not at.exception
    rows = [h.proto.body for h in at.get("html") if 'class="neighbours"' in h.proto.body]
    assert len(rows) == 2
    captions = [re.findall(r"<figcaption[^>]*>(\d) · ([\d.]+)</figcaption>", r) for r in rows]
    image = canvas_to_mnist(drawn)
    with torch.inference_mode():
        f = net.features(torch.as_tensor(image)[None, None]).numpy()
    z = f / np.linalg.norm(f) @ shipped.projection
    cos = 1 - (z / np.linalg.norm(z)) @ shipped.features.T
    by_features = np.argsort(cos[0])[:8]
    pixels = np.sqrt(((shipped.images.reshape(len(shipped), -1) / 255 - image.reshape(1, -1)) ** 2).sum(1))
    by_pixels = np.argsort(pixels)[:8]
    assert [int(label) for label, _ in captions[0]] == shipped.labels[by_features].tolist()
    np.testing.assert_allclose([float(d) for _, d in captions[0]], cos[0][by_features], atol=1.5e-3)
    assert [int(label) for label, _ in captions[1]] == shipped.labels[by_pixels].tolist()
    np.testing.assert_allclose([float(d) for _, d in captions[1]], pixels[by_pixels], atol=0.06)
    said = " ".join(e.value for e in [*at.info, *at.success, *at.warning])
    assert "of the 8 nearest in features are" in said


def test_the_discriminant_finds_the_directions_that_part_the_labels():
    """Three labels apart along x0 and x1 only, mixed along three noisy directions: the two axes span x0 and x1."""
    from cnn.atlas import discriminant_axes

    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 300)
    centres = np.array([[0, 0], [4, 0], [0, 4]], float)
    x = np.concatenate([centres[labels] + rng.normal(0, 0.5, (900, 2)), rng.normal(0, 3, (900, 3))], axis=1)
    mean, axes = discriminant_axes(x, labels)
    np.testing.assert_allclose(mean, x.mean(0), atol=1e-5)
    share = np.linalg.norm(axes[:2], axis=0) / np.linalg.norm(axes, axis=0)  # of each axis, in the x0-x1 plane
    assert (share > 0.98).all(), share


def test_separation_is_the_share_of_nearest_neighbours_sharing_a_label():
    from cnn.atlas import separation

    rng = np.random.default_rng(5)
    points, labels = rng.normal(size=(1500, 2)), rng.integers(0, 3, 1500)
    d = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :10]
    assert separation(points, labels) == pytest.approx((labels[near] == labels[:, None]).mean())


def test_the_shipped_maps_part_the_digits_better_from_features_than_from_pixels(shipped):
    from cnn.atlas import separation

    s = shipped.shown_on_map()
    assert s.start >= atlas_module.MAP_FIT  # shown digits are not those the maps were fitted on
    on_features, on_pixels = shipped.place(shipped.features[s], shipped.images[s])
    f, p = separation(on_features, shipped.labels[s]), separation(on_pixels, shipped.labels[s])
    print(f"\nseparation on the maps: features {f:.1%}, pixels {p:.1%}")
    assert f > 0.75 and p < 0.6


def test_the_part_places_the_drawing_on_both_maps_and_says_its_nearest_dots(shipped, net):
    import torch

    from ui.nearest import MAP_TOGGLE

    drawn = draw_digit(7)
    at = run_app(drawn, part="Among the digits it knows")
    assert not [c for c in at.caption if "nearest dots" in c.value]  # the maps are off at first
    at.toggle(key=MAP_TOGGLE).set_value(True)
    at = run_app(drawn, at=at, part="Among the digits it knows")
    assert not at.exception
    captions = [c.value for c in at.caption if "nearest dots" in c.value]
    assert len(captions) == 2
    image = canvas_to_mnist(drawn)
    with torch.inference_mode():
        e = atlas_module.project(net.features(torch.as_tensor(image)[None, None]), shipped.projection)
    you, _ = shipped.place(e, image[None])
    s = shipped.shown_on_map()
    on_features, _ = shipped.place(shipped.features[s], shipped.images[s])
    near = shipped.labels[s][np.argsort(((on_features - you[0]) ** 2).sum(1))[:10]]
    from ui.analysis import a_digit

    counts = np.bincount(near, minlength=10)
    top = int(counts.argmax())
    assert (f"{counts[top]} are {top}s" if counts[top] > 1 else f"1 is {a_digit(top)}") in captions[0]
