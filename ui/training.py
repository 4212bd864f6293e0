"""How the shipped network was trained: curves, confusion matrix and misread test digits, from its metadata."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import streamlit as st

from cnn.checkpoint import MetadataError, load_metadata
from cnn.evaluate import decode_image
from cnn.model import ONE_PASS, PAGE_READING
from cnn.paths import metadata_path, shown
from cnn.recipe import optimizer_name
from ui.alt import chart, confusion_alt, history_alt
from ui.figures import confusion_figure, history_figure, percent
from ui.markdown import literal

GALLERY = 40  # misread digits shown, the most confidently wrong first


def _count(n) -> str:
    return f"{n:,}" if isinstance(n, int) else "?"


def curves_caption(hp: dict, history: list[dict]) -> str:
    """What the training and validation curves each measure, from the recipe the weights were trained with."""
    seen = "augmented images" if hp.get("augment") else "the training images"
    dropout = f", with dropout {hp['dropout']:g} on" if hp.get("dropout") else ""
    kept = (f", using the weight average (EMA, decay {hp['ema']:g}) that is saved rather than the last step's weights"
            if hp.get("ema") else "")
    text = (
        f"Training figures are the running mean over each epoch on {seen}{dropout}, taken while the weights change. "
        f"Validation figures are measured once at the end of each epoch, on plain images with dropout off{kept}."
    )
    above = sum(h.get("val_accuracy", 0) > h.get("train_accuracy", 1) for h in history)
    if above > len(history) / 2:
        text += f" That is why validation accuracy sits above training's ({above} of {len(history)} epochs)."
    return text


@functools.lru_cache(maxsize=4)
def record_figures(weights: str, mtime: float) -> dict:
    """The training record's charts, built once for each weights file (and again when its metadata changes): they
    are the same on every stroke. Only for metadata training_ui has found well formed."""
    meta = load_metadata(weights)
    figures = {"loss": history_figure(meta["history"], "loss"), "accuracy": history_figure(meta["history"], "accuracy")}
    if "confusion" in meta["test"]:
        figures["confusion"] = confusion_figure(np.array(meta["test"]["confusion"]))
    return figures


@functools.lru_cache(maxsize=256)
def enlarged_png(encoded: str) -> bytes:
    """A misread test digit from the metadata, three times as large, as PNG bytes (made once for each)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.kron(decode_image(encoded), np.ones((3, 3), np.uint8))).save(buf, format="PNG")
    return buf.getvalue()


def training_ui(weights: Path) -> None:
    try:
        meta = load_metadata(weights)
    except MetadataError as e:
        st.error(f"No training record to show: {literal(e)}")
        return
    test, history = meta.get("test") or {}, meta.get("history") or []
    hp = meta.get("hyperparameters") or {}
    well_formed = (
        isinstance(test, dict) and isinstance(hp, dict) and isinstance(history, list)
        and all(isinstance(h, dict) and {"epoch", "train_loss", "val_loss"} <= h.keys() for h in history)
    )
    if not well_formed:
        st.error(
            f"The training record {shown(metadata_path(weights))} is not in the expected form; train again with "
            "python cnn/train.py, or rewrite its test results with python -m cnn.evaluate --write."
        )
        return
    a, b, c, d = st.columns(4)
    if "test_accuracy" in meta:
        reading = test.get("reading") if isinstance(test.get("reading"), dict) else {}
        one_pass, widths = reading.get("one_pass_accuracy"), reading.get("widths")
        how = (f", read with {PAGE_READING}, the mean over {len(widths)} stroke widths; {one_pass:.2%} on "
               + ONE_PASS.replace("the image", "each image") if isinstance(one_pass, float) and isinstance(widths, list)
               else "")
        a.metric("Test accuracy", f"{meta['test_accuracy']:.2%}", help="On MNIST's 10,000 test digits, never trained on"
                 + how)
    if "recipe" in meta:
        b.metric("Recipe", str(meta["recipe"]))
    if history:
        c.metric("Epochs", len(history))
    if "train_seconds" in meta:
        d.metric("Training time", f"{meta['train_seconds'] / 60:.1f} min", help=f"on {meta.get('device', '?')}")
    if hp:
        shown_hp = {**hp, "optimizer": optimizer_name(hp)} if "optimizer" in hp else hp
        st.caption(literal(
            "Hyperparameters: " + ", ".join(f"{k} {v}" for k, v in shown_hp.items())
            + f". Trained {meta.get('date', '?')} with torch {meta.get('torch', '?')}, seed {meta.get('seed', '?')}, "
            f"on {meta.get('train_samples', '?')} images, validated on the last {meta.get('val_samples', '?')}."
        ))
    figures = record_figures(str(weights), metadata_path(weights).stat().st_mtime)
    if history:
        left, right = st.columns(2)
        chart(figures["loss"], history_alt(history, "loss"), where=left, key="hist_loss")
        chart(figures["accuracy"], history_alt(history, "accuracy"), where=right, key="hist_acc")
        st.caption(curves_caption(hp, history))
    if "confusion" in test:
        left, right = st.columns([3, 2])
        with left:
            st.markdown(f"**Test confusion matrix**: {_count(test.get('errors'))} errors in {_count(test.get('count'))}")
            chart(figures["confusion"],
                  confusion_alt(np.array(test["confusion"]), "MNIST's test digits"), key="confusion")
        with right:
            per_class = test.get("per_class_accuracy") or []
            if per_class:
                worst = int(np.argmin(per_class))
                st.markdown(
                    f"Rows are the true digit, columns what the network read; off the diagonal are its mistakes. "
                    f"Hardest digit: **{worst}** ({per_class[worst]:.2%} read right)."
                )
                st.dataframe(
                    {"digit": list(range(10)), "accuracy": [f"{a:.2%}" for a in per_class]},
                    hide_index=True, height=390,
                )
    wrong = test.get("misclassified") or []
    if wrong:
        wrong = sorted(wrong, key=lambda w: -w["probability"])[:GALLERY]
        st.markdown(f"**Misread test digits** (the {len(wrong)} most confidently wrong of {len(test['misclassified'])})")
        per_row = 10
        for start in range(0, len(wrong), per_row):
            cols = st.columns(per_row)
            for col, w in zip(cols, wrong[start : start + per_row]):
                caption = f"{w['label']} → {w['predicted']} ({percent(w['probability'], 0)})"
                col.image(enlarged_png(w["image"]), caption=caption, width="stretch",
                          alt=f"A test digit {w['label']}, which the network read as {w['predicted']}")
        st.caption("Caption: true digit → what the network read (its probability).")
    elif test:
        st.caption(
            f"This metadata holds no misread images: python -m cnn.evaluate --write adds them to "
            f"{shown(metadata_path(weights))}."
        )
