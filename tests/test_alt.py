"""The figures' text alternatives (ui/alt.py) say what each figure shows, with its numbers, computed from the data."""

from __future__ import annotations

import numpy as np

from ui import alt


def test_the_probability_chart_reads_out_the_reading_and_every_probability():
    probs = np.full(10, 0.01)
    probs[7] = 0.91
    text = alt.probabilities_alt(probs)
    assert text.startswith("Chart of the ten probabilities. The network reads 7, with probability 91.0%.")
    assert all(f"{d}: " in text for d in range(10))
    spread = alt.probabilities_alt(probs, np.full(10, 0.02), who="Averaged, the network")
    assert "Averaged, the network reads 7" in spread and "7: 91.0% ± 2.0%" in spread


def test_an_image_says_where_its_ink_is():
    image = np.zeros((28, 28), np.float32)
    image[4:24, 10:14] = 1.0  # a bar: rows 4-23, columns 10-13
    text = alt.image_alt(image, "What the network sees")
    assert "rows 4 to 23 and columns 10 to 13" in text and f"{80 / 784:.0%} of the pixels" in text
    assert alt.image_alt(np.zeros((28, 28)), "Empty").endswith("all black.")


def test_a_small_kernel_is_read_weight_by_weight_and_a_stack_by_its_extremes():
    k = np.array([[0.5, -0.25, 0], [1, 0, 0], [0, 0, -1]])
    assert alt.kernel_alt(k, "K") == "K: 3×3 weights, row by row: +0.50, -0.25, +0.00; +1.00, +0.00, +0.00; +0.00, +0.00, -1.00."
    stack = alt.kernel_alt(np.stack([k, 2 * k]), "Two")
    assert "2 weight images of 3×3" in stack and "-2.00" in stack and "+2.00" in stack


def test_feature_maps_name_their_strongest_and_silent_channels():
    maps = np.zeros((4, 5, 5), np.float32)
    maps[2, 1, 3] = 3.0
    maps[0, 4, 4] = 1.0
    text = alt.maps_alt(maps, "conv1")
    assert text.startswith("Grid of 4 feature maps of conv1, 5×5 each")
    assert "channel 2 (3.00), channel 0 (1.00)" in text and "2 channels are zero everywhere" in text
    assert "strongest at row 1, column 3 (3.00)" in alt.map_alt(maps[2], "conv1", 2)


def test_a_confusion_matrix_names_its_largest_confusions():
    cm = np.diag(np.full(10, 100))
    cm[4, 9], cm[7, 1], cm[3, 5] = 6, 3, 1
    text = alt.confusion_alt(cm, "the test digits")
    assert "1000 of 1010 read right" in text
    assert "4 read as 9 (6), 7 read as 1 (3), 3 read as 5 (1)" in text


def test_curves_give_their_last_values_and_grids_their_marked_cell():
    history = [{"epoch": 1, "val_accuracy": 0.9, "train_accuracy": 0.8},
               {"epoch": 2, "val_accuracy": 0.95, "train_accuracy": 0.9}]
    assert "training 90.00%, validation 95.00%" in alt.history_alt(history, "accuracy")
    assert "convnet" not in alt.curves_alt({"x": history}, "loss") and "validation ? after 2 epochs" in \
        alt.curves_alt({"x": history}, "loss")
    grid = alt.grid_alt(np.arange(6).reshape(2, 3), "The output", mark=(1, 2))
    assert grid == "The output: 2×3 values, row by row: 0, 1, 2; 3, 4, 5. Marked: row 1, column 2, 5."
    assert "from 0 to 99" in alt.grid_alt(np.arange(100).reshape(10, 10), "Big")


def test_a_heat_map_says_where_it_is_strongest_in_its_own_grid():
    heat = np.zeros((7, 7))
    heat[2, 5] = -0.4  # the strongest is by size, whatever its sign
    heat[0, 0] = 0.1
    text = alt.heat_alt(heat, "Occlusion for 3")
    assert "a 7×7 map laid over the 28×28 input, strongest at its row 2, column 5 (-0.4)" in text
