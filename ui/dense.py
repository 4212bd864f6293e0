"""Dense against convolution: the three networks' sizes, accuracies, what they learned and how they trained."""

from __future__ import annotations

import functools

import streamlit as st

from cnn.data import IMAGE_SIZE
from cnn.model import count_parameters
from ui.alt import chart, curves_alt, kernel_alt
from ui.figures import COMPARED, NETWORK_NAMES, curves_figure, kernel_figure, unchanging


def network_rows(models: dict, metas: dict) -> list[dict]:
    """One row per network: its layers, parameters (counted), and MNIST test and final validation accuracy (its JSON)."""
    rows = []
    for arch, model in models.items():
        meta = metas.get(arch) or {}
        history = meta.get("history") if isinstance(meta.get("history"), list) else []
        last = history[-1] if history and isinstance(history[-1], dict) else {}
        rows.append({
            "network": NETWORK_NAMES[arch],
            "parameters": count_parameters(model),
            "MNIST test": f"{meta['test_accuracy']:.2%}" if isinstance(meta.get("test_accuracy"), float) else "?",
            "validation, last epoch": f"{last['val_accuracy']:.2%}" if "val_accuracy" in last else "?",
            "training, last epoch": f"{last['train_accuracy']:.2%}" if "train_accuracy" in last else "?",
            "recipe": str(meta.get("recipe", "?")),
        })
    return rows


def gap_text(metas: dict) -> str:
    """The overfitting gap each network shows, measured the same way on both splits (its metadata's "fit")."""
    gaps, sizes = {}, None
    for name, meta in metas.items():
        fit = (meta or {}).get("fit")
        if isinstance(fit, dict) and {"train_accuracy", "val_accuracy"} <= fit.keys():
            gaps[name] = (fit["train_accuracy"], fit["val_accuracy"])
            sizes = sizes or (fit.get("train_samples"), fit.get("val_samples"))
    if not gaps:
        return ""
    rows = "; ".join(f"{NETWORK_NAMES[n]} {t:.2%} against {v:.2%} ({(t - v) * 100:+.2f} points)" for n, (t, v) in gaps.items())
    largest = max(t - v for t, v in gaps.values())
    verdict = (
        "None of them overfits much with this recipe: the random moves of every training image, and dropout or the "
        "weight average, keep each one about as good on digits it has not seen as on those it learned from."
        if largest < 0.01 else
        f"The largest gap, {largest * 100:.2f} points, is overfitting: a network doing better on the images it learned "
        "from than on ones it has not seen."
    )
    n_train, n_val = sizes
    return (f"Accuracy on the {n_train:,} training images against the {n_val:,} held out, both plain and with dropout "
            f"off: {rows}. {verdict}")


@functools.lru_cache(maxsize=8)
def weights_figure(model, units: int, cols: int):
    """A shipped network's first layer's weights, tiled (a dense layer's as 28x28 images): built once for each loaded
    network, as its weights never change while it serves."""
    layer = model.hidden if hasattr(model, "hidden") else model.conv1
    weights = layer.weight.detach().cpu().numpy()
    side = IMAGE_SIZE if hasattr(model, "hidden") else weights.shape[-1]
    return kernel_figure(weights.reshape(units, side, side), 330, annotate=False, cols=cols)


def dense_ui(models: dict, metas: dict) -> None:
    """`models` and `metas`: {name: network} and {name: its metadata} for the shipped networks, the convnet first."""
    st.markdown(
        "The lesson's reason for convolution: a dense layer links every pixel to every hidden unit, so its weights grow "
        "with the image and it learns each place separately; a convolution layer assumes that nearby pixels belong "
        "together and that a detector useful in one place is useful everywhere. Here are the two side by side, "
        "trained with the same recipe on the same digits. The dense networks read better without the convnet's "
        "dropout (their few hidden units lose too much when half of them are silenced), so they also ship trained "
        "that way: the rows marked *no dropout*."
    )
    st.dataframe(network_rows(models, metas), hide_index=True,
                 column_config={"parameters": st.column_config.NumberColumn("parameters", format="localized")})
    dense = next((a for a in ("dense44", "dense30") if a in models), None)
    if dense is not None and "convnet" in models:
        left, right = st.columns([3, 2])
        weights = models[dense].hidden.weight.detach().cpu().numpy()  # (hidden, 784)
        n = len(weights)
        with left:
            st.markdown(f"**What {NETWORK_NAMES[dense]} learned**: its {n} hidden units, "
                        f"each a {IMAGE_SIZE}×{IMAGE_SIZE} weight image")
            chart(weights_figure(models[dense], n, 11),
                  kernel_alt(weights.reshape(n, IMAGE_SIZE, IMAGE_SIZE), f"The hidden units of {NETWORK_NAMES[dense]}"),
                  key="dense_units")
            st.caption("Each unit looks at the whole image, every pixel with its own weight, always at the same place: "
                       "blue rewards ink there, red penalises it.")
        with right:
            conv1 = models["convnet"].conv1.weight.detach().cpu().numpy()  # (32, 1, 3, 3)
            st.markdown(f"**What the convnet's conv1 learned**: {len(conv1)} kernels of 3×3")
            chart(weights_figure(models["convnet"], len(conv1), 8), kernel_alt(conv1[:, 0], "The convnet's conv1 kernels"),
                  key="dense_conv1")
            st.caption("Each kernel looks at 3×3 pixels, and the same kernel at every position of the image.")
    histories = {a: metas[a]["history"] for a in COMPARED
                 if isinstance((metas.get(a) or {}).get("history"), list) and metas[a]["history"]}
    if histories:
        left, right = st.columns(2)
        chart(unchanging(curves_figure, histories, "accuracy"), curves_alt(histories, "accuracy"), where=left, key="dense_acc")
        chart(unchanging(curves_figure, histories, "loss"), curves_alt(histories, "loss"), where=right, key="dense_loss")
        st.caption("Dashed: training (a running mean over each epoch, on augmented images with dropout on, as the "
                   "recipe trains, so it sits below validation); solid: validation.")
    text = gap_text(metas)
    if text:
        st.markdown(text)
