"""Per-stroke compute on one CPU thread: median times of the steps between a drawing and what the page shows.

    python bench/latency.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import io

import numpy as np
import torch
from PIL import Image

from cnn import atlas as atlas_module
from cnn.canvas import decode_png
from cnn.conv2d import conv2d
from cnn.explain import grad_cam, input_gradient, mc_dropout, occlusion
from cnn.features import feature_maps, read_with_maps
from cnn.model import load, page_reading, predict_proba
from cnn.paths import shipped_networks
from cnn.perturb import Move, apply
from cnn.robustness import readings_along
from cnn.preprocess import canvas_to_mnist, preprocess_steps
from cnn.strokes import draw_digit


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def the_three(model, canvas):
    image = canvas_to_mnist(canvas)
    return page_reading(model, image), feature_maps(model, image)


def a_stroke(model, dense, png: bytes):
    """What the page computes for a stroke with the first screen only: the canvas read, prepared, the feature maps,
    and both networks' readings over three stroke widths."""
    image = preprocess_steps(decode_png(png, 280, 280)).final
    return read_with_maps(model, image), page_reading(dense, image)


def unlike(atlas, maps) -> bool:
    """The first screen's not-a-digit check, from the drawing's pool2 maps (ui.first_screen.unlike_digits)."""
    embedded = atlas_module.project(maps["pool2"].reshape(1, -1), atlas.projection)
    return bool(atlas_module.scores(atlas, embedded)[0] > atlas.threshold)


def nearest(atlas, maps, image, shown):
    """What Among the digits it knows computes and draws on a stroke: the 8 nearest in features and in pixels as
    thumbnails, the drawing placed on both maps, and both maps' figures as the JSON sent to the browser. `shown`:
    the maps' digits, placed once per server."""
    from ui.nearest import among, placed, row_html

    embedded = atlas_module.project(maps["pool2"].reshape(1, -1), atlas.projection)
    rows, dist = atlas_module.neighbours(atlas, embedded, 8)
    prows, pdist = atlas_module.nearest_in_pixels(atlas, image, 8)
    you_f, you_p = (p[0] for p in atlas.place(embedded, image[None]))
    on_features, on_pixels, labels, base_f, base_p = shown
    return (row_html(atlas.images[rows[0]], atlas.labels[rows[0]], dist[0], "cosine"),
            row_html(atlas.images[prows], atlas.labels[prows], pdist, "pixel"),
            placed(base_f, you_f).to_json(), placed(base_p, you_p).to_json(),
            among(on_features, labels, you_f), among(on_pixels, labels, you_p))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args()
    torch.set_num_threads(1)
    model = load()
    nets = {name: load(shipped_networks()[name]) for name in ("convnet", "dense44", "dense30")}
    canvas = draw_digit(5)
    image = canvas_to_mnist(canvas)
    kernel = model.conv1.weight[0, 0].detach().numpy()
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    png = buf.getvalue()  # what the canvas sends
    r = args.repeats
    atlas = atlas_module.load_atlas(atlas_module.atlas_path(shipped_networks()["convnet"]))
    maps = feature_maps(model, image)
    s = atlas.shown_on_map()
    from ui.nearest import base_map

    on_maps = [np.round(p, 3) for p in atlas.place(atlas.features[s], atlas.images[s])]
    shown = (*on_maps, atlas.labels[s], *(base_map(p, atlas.labels[s]) for p in on_maps))  # once per server
    rows = [
        ("decode_png: the canvas's PNG, size checked first", lambda: decode_png(png, 280, 280)),
        ("canvas_to_mnist", lambda: canvas_to_mnist(canvas)),
        ("predict_proba: one plain pass", lambda: predict_proba(model, image)),
        ("page_reading: the mean over three stroke widths, the page's reading", lambda: page_reading(model, image)),
        ("feature_maps", lambda: feature_maps(model, image)),
        ("read_with_maps: the page's reading and the drawing's maps in one batch", lambda: read_with_maps(model, image)),
        ("canvas_to_mnist + page_reading + feature_maps", lambda: the_three(model, canvas)),
        ("Step by step tab: preprocess_steps + page_reading", lambda: page_reading(model, preprocess_steps(canvas).final)),
        ("first screen: the not-a-digit check (cnn.atlas, 20,000 training digits)", lambda: unlike(atlas, maps)),
        ("Among the digits it knows: 8 nearest two ways as HTML, two maps of 5,000 digits as JSON",
         lambda: nearest(atlas, maps, image, shown)),
        ("How sure tab: mc_dropout (30 passes)", lambda: mc_dropout(model, image)),
        ("Why tab: occlusion (169 patches, all digits)", lambda: occlusion(model, image)),
        ("Why tab: grad_cam", lambda: grad_cam(model, image, 5)),
        ("Why tab: input_gradient", lambda: input_gradient(model, image, 5)),
        ("2D tab: conv2d 28x28, 3x3", lambda: conv2d(image, kernel, "same")),
        ("first screen: the dense 784-44-10 network's reading", lambda: page_reading(nets["dense44"], image)),
        ("what a stroke runs, with the dense reading beside the prediction", lambda: a_stroke(model, nets["dense44"], png)),
        ("Move it tab: one moved image read by all three networks",
         lambda: [page_reading(m, apply(image, Move(dx=3, dy=-2, rotate=15, scale=0.9, stroke=1, noise=0.1)).numpy())
                  for m in nets.values()]),
        ("Move it tab, what a stroke adds: 17 shifts (the one set now among them), all three networks",
         lambda: readings_along(nets, image, Move(dx=3, rotate=15, noise=0.1), "dx")),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, median of {r} runs, one 280x280 drawing")
    for name, fn in rows:
        print(f"{median_ms(fn, r):8.2f} ms  {name}")


if __name__ == "__main__":
    main()
