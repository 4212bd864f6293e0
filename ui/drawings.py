"""Your drawings and the class's: say whether a reading was right, keep labelled drawings (saved only when the
visitor opts in), a gallery to delete them, and the shipped networks measured on everything a class collected."""

from __future__ import annotations

import hashlib
import os
import re

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from classroom.collected import ClassReadings, predictions_report
from classroom.drawings import (
    ENV_TEACHER_KEY, ClientCap, DrawingsStore, KeyGuard, StoreError, canvas_png, export_zip, image_bytes,
    image_from_bytes, key_problem, new_session_id,
)
from classroom.finetune import MIN_DRAWINGS, FineTuneError, FineTuneRecipe, fine_tune
from cnn.data import IMAGE_SIZE
from cnn.model import page_reading
from ui.alt import chart, confusion_alt
from ui.figures import NETWORK_NAMES, confusion_figure, percent, points_delta
from ui.markdown import literal
from ui.replay import live_queue, my_turn
from ui.resources import drawings_store, live_digits, model_or_error, networks, weights_sha256
from ui.serving import client_address
from ui.state import (
    FINETUNE_ON, GALLERY_NOTE, LABEL_NOTE, LABELLED, LABELLED_NOW, PERSONAL, READING, REMEMBER_VISIT, SAVE_ON,
    SAVE_TOGGLE, TEACHER, TEACHER_KEY, TEACHER_KEY_NOTE, TEACHER_NOTE, TEACHER_PICK, VISITOR,
)

PART = "Your drawings and the class's"  # the part of the page where they are
KEPT_IN_TAB = 200  # labelled drawings one tab keeps in memory, as many as one visitor may save
THUMBNAIL = 90  # pixels a side of a labelled drawing in the gallery

def saving_note(teacher_key_set: bool) -> str:
    """Who can do what with a saved drawing, exactly: on the page, and on the server itself."""
    others = (
        "On the page, deleting anyone else's drawings or exporting them all needs the teacher's key, which this "
        "server has; " if teacher_key_set else
        "On the page, no one can delete anyone else's drawings or export them all: this server was started without "
        "a teacher's key; "
    )
    return (
        "**What saving keeps, and where.** With saving on, each drawing you label is stored on this page's server: the "
        f"drawing as you drew it (a PNG), the {IMAGE_SIZE}×{IMAGE_SIZE} image the network saw, the digit you say it is, "
        "what the network "
        "read and how sure it was, which weights read it, the time, and a random number for this visit; nothing "
        "about you. It never leaves the server: the page measures the networks on the class's drawings and shows "
        "those they misread to everyone who opens it, with their labels but not who drew them. "
        f"You can delete yours under **{PART}** below, one or all, from this browser for a day: once you save, it "
        "keeps a cookie with the visit's random number, so a reload keeps them yours. Another browser, or this one "
        "after a day or with its cookies cleared, cannot delete them from the page. "
        + others
        + "whoever runs the server can read, export and delete every drawing with its own commands and files, which "
        "need no key. Labels you did not save, and a personal copy, stay in this tab and go when you close or reload "
        "it."
    )


VISIT_COOKIE = "digits_visit"  # set once a drawing is saved: the visit's random id, so a reload keeps its drawings
VISIT_SECONDS = 86_400  # how long the browser keeps it


def visit_cookie() -> str | None:
    """The visit id this browser holds, if it holds a well-formed one."""
    try:
        token = st.context.cookies.get(VISIT_COOKIE)
    except Exception:  # noqa: BLE001: no browser connection (tests without one)
        return None
    return token if isinstance(token, str) and re.fullmatch(r"[0-9a-f]{32}", token) else None


def visitor() -> str:
    """This visit's anonymous id: random, the same for every rerun of this tab, and, once the visitor saved a
    drawing, for a reload or a reconnection of this browser within VISIT_SECONDS (visit_cookie)."""
    if VISITOR not in st.session_state:
        st.session_state[VISITOR] = visit_cookie() or new_session_id()
    return st.session_state[VISITOR]


def remember_visit_ui() -> None:
    """Once, after the first save: the browser keeps the visit's id in a cookie (path /, this site only), so that a
    reload, or a failover to another replica, still finds and deletes the drawings this visit saved."""
    if st.session_state.pop(REMEMBER_VISIT, False):
        st.html(f"<script>document.cookie = '{VISIT_COOKIE}={visitor()}; path=/; max-age={VISIT_SECONDS}; "
                "SameSite=Strict';</script>", unsafe_allow_javascript=True)


def _kept() -> dict[str, dict]:
    return st.session_state.setdefault(LABELLED, {})


def drawing_key(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image, np.float32).tobytes()).hexdigest()[:16]


def label_ui(store: DrawingsStore, image: np.ndarray, rgba: np.ndarray, probs: np.ndarray, weights_sha: str) -> None:
    """Under the prediction: one click says whether it was right, and which digit it was if not."""
    if st.session_state.pop(LABELLED_NOW, False):
        st.rerun()  # the whole page, so that Your drawings, if open, shows the new drawing
    remember_visit_ui()
    top, key = int(np.argmax(probs)), drawing_key(image)
    kept = _kept()
    note = st.session_state.pop(LABEL_NOTE, None)
    if note:
        st.warning(literal(note))
    if key in kept:
        k = kept[key]
        where = "saved on the server" if k.get("saved") else "kept in this tab"
        st.caption(f"Labelled as {k['label']} ({where}). Thank you. Draw another, or see **{PART}** below.")
        return
    # The reading the buttons label, one per tab and replaced by each stroke: a button's arguments stay in memory as
    # long as its widget does, so they carry only the drawing's key (a canvas is 300 kB as pixels).
    st.session_state[READING] = {"key": key, "image": image, "rgba": rgba, "probs": probs, "sha": weights_sha}
    reading = (store, key)
    st.markdown("**Was it right?**")
    # One row that wraps where it must (a tablet's column holds about six digits): nothing is ever cut off.
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.button(f"Yes, a {top}", key=f"right_{key}", type="primary", on_click=_label, args=(*reading, top))
        st.markdown("or no, it was", width="content")
        for d in range(10):
            if d != top:
                st.button(str(d), key=f"wrong_{key}_{d}", help=f"No, it was a {d}", on_click=_label,
                          args=(*reading, d))
    on = bool(st.session_state.get(SAVE_ON)) and store.can_save
    with st.popover(f"Saving: {'on' if on else 'off'}", help="Whether your labelled drawings are kept on the server"):
        # The choice lives under its own key: a widget's state is dropped on any run that does not draw it.
        st.toggle("Save my labelled drawings on this server", value=bool(st.session_state.get(SAVE_ON)),
                  key=SAVE_TOGGLE, disabled=not store.can_save, help="Off unless you turn it on.",
                  on_change=lambda: st.session_state.update({SAVE_ON: st.session_state[SAVE_TOGGLE]}))
        if not store.can_save:
            st.caption(f"Saving is off: {literal(store.problem)}.")
        st.markdown(saving_note(bool(os.environ.get(ENV_TEACHER_KEY))))


def thumbnail_png(rgba: np.ndarray, side: int = THUMBNAIL) -> bytes:
    """A small copy of the canvas for the gallery, a kilobyte or two, where the canvas's own PNG is 5-15 kB."""
    from PIL import Image

    small = Image.fromarray(np.asarray(rgba, np.uint8), "RGBA").resize((side, side), Image.LANCZOS)
    return canvas_png(np.asarray(small))


def _label(store, key, label) -> None:
    """A click on "Yes" or on the right digit: keep the drawing with that label, and save it if asked. Kept in the
    tab: the 28x28 image as bytes, a thumbnail and four numbers, about 3 kB a drawing."""
    kept, reading = _kept(), st.session_state.get(READING)
    if not reading or reading["key"] != key:
        st.session_state[LABEL_NOTE] = "The drawing changed before that click arrived: label the one shown now."
        return
    if len(kept) >= KEPT_IN_TAB:
        st.session_state[LABEL_NOTE] = (f"This tab keeps {KEPT_IN_TAB} labelled drawings at most: delete some under "
                                          f"{PART} to label more.")
        return
    image, probs = reading["image"], reading["probs"]
    top = int(np.argmax(probs))
    entry = {"label": int(label), "prediction": top, "probability": float(probs[top]),
             "thumb": thumbnail_png(reading["rgba"]), "image": image_bytes(image), "saved": None}
    if st.session_state.get(SAVE_ON) and store.can_save:
        if not save_cap().take(client_address()):
            st.session_state[LABEL_NOTE] = (f"Not saved: this address has saved {save_cap().per_client:,} drawings "
                                              "today, the most one address may. It is kept in this tab.")
        else:
            try:
                entry["saved"] = store.save(visitor(), int(label), top, float(probs[top]), reading["sha"], image,
                                            canvas_png(reading["rgba"]))
                st.session_state[REMEMBER_VISIT] = visit_cookie() != visitor()
            except StoreError as e:
                st.session_state[LABEL_NOTE] = f"Not saved: {e}. It is kept in this tab."
    kept[key] = entry
    st.session_state[LABELLED_NOW] = True


def kept_images() -> np.ndarray:
    """(N, 28, 28) float images in [0, 1] of the drawings labelled in this tab, in the order they were labelled."""
    return np.stack([image_from_bytes(k["image"]) for k in _kept().values()])


def gallery_ui(store: DrawingsStore) -> None:
    kept = _kept()
    st.markdown("## Your drawings")
    note = st.session_state.pop(GALLERY_NOTE, None)
    if note:
        st.error(literal(note))
    earlier = earlier_saves(store)
    if not kept and not earlier:
        st.info("Label a reading under the prediction (“Was it right?”) and your drawing appears here.")
        return
    if kept:
        right = sum(k["label"] == k["prediction"] for k in kept.values())
        saved = sum(bool(k["saved"]) for k in kept.values())
        st.caption(f"{len(kept)} labelled in this tab, {right} read right; {saved} saved on the server.")
        cols = st.columns(6)
        for i, (key, k) in enumerate(reversed(list(kept.items()))):
            with cols[i % 6]:
                st.image(k["thumb"], width=THUMBNAIL, alt=f"Your drawing, labelled {k['label']}")
                mark = "✓" if k["label"] == k["prediction"] else f"read as {k['prediction']}"
                st.caption(f"{k['label']} · {mark} · {'saved' if k['saved'] else 'this tab'}")
                st.button("Delete", key=f"del_{key}", help="Delete this drawing, from the server too",
                          on_click=_delete, args=(store, [key]))
    if earlier:
        st.caption(f"{len(earlier)} saved on the server by this browser before the page was last loaded (the labels "
                   "that were not saved, and a personal copy, went with that page).")
        cols = st.columns(6)
        for i, d in enumerate(earlier):
            with cols[i % 6]:
                st.image(d.canvas_png, width=THUMBNAIL, alt=f"Your drawing, labelled {d.label}")
                mark = "✓" if d.label == d.prediction else f"read as {d.prediction}"
                st.caption(f"{d.label} · {mark} · saved")
                st.button("Delete", key=f"del_saved_{d.id}", help="Delete this drawing from the server",
                          on_click=_delete_saved, args=(store, [d.id]))
    st.button("Delete all my drawings", key="del_all", on_click=_delete,
              args=(store, list(kept), [d.id for d in earlier]))


def earlier_saves(store: DrawingsStore) -> list:
    """The drawings this visit saved that this tab no longer holds (a reload or a failover came between), newest
    first; at most the per-visit cap, and none unless the browser brought the visit's cookie."""
    if not store.can_save or visit_cookie() is None or visit_cookie() != visitor():
        return []
    in_tab = {k["saved"] for k in _kept().values() if k["saved"]}
    try:
        return [d for d in store.mine(visitor()) if d.id not in in_tab]
    except StoreError:
        return []


def _delete_saved(store: DrawingsStore, ids: list[int]) -> None:
    try:
        store.delete(ids, session=visitor())  # only this visit's: another's ids delete nothing
    except StoreError as e:
        st.session_state[GALLERY_NOTE] = f"Could not delete from the server: {e}. Nothing was removed; try again."


def _delete(store: DrawingsStore, keys: list[str], earlier: list[int] = ()) -> None:
    kept = _kept()
    ids = [kept[k]["saved"] for k in keys if k in kept and kept[k]["saved"]] + list(earlier)
    if ids:
        try:
            store.delete(ids, session=visitor())
        except StoreError as e:
            st.session_state[GALLERY_NOTE] = f"Could not delete from the server: {e}. Nothing was removed; try again."
            return
    for k in keys:
        kept.pop(k, None)


def personal_ui(shipped, queue, session: str, mnist) -> None:
    """Fine-tune a private copy of the network on this tab's labelled drawings; it then reads every stroke too."""
    st.markdown("## A personal copy that learns your style")
    kept = _kept()
    recipe = FineTuneRecipe()
    st.markdown(
        f"A copy of the network trains for {recipe.steps} steps, a few seconds, on your labelled drawings (each moved "
        "a little at random) mixed with as many MNIST digits, so it learns your style without forgetting everyone "
        "else's. A quarter of your drawings is held back to measure both networks on drawings the copy never saw. "
        "The shipped network is not touched; the copy lives in this tab and goes when you close it."
    )
    result = st.session_state.get(PERSONAL)
    if st.button("Fine-tune on my drawings", key="finetune", disabled=len(kept) < MIN_DRAWINGS,
                 help=f"Needs at least {MIN_DRAWINGS} labelled drawings; you have {len(kept)}."):
        st.session_state[FINETUNE_ON] = True
    if st.session_state.get(FINETUNE_ON) and len(kept) >= MIN_DRAWINGS and my_turn(queue, session, FINETUNE_ON):
        images = kept_images()
        labels = np.array([k["label"] for k in kept.values()])
        bar = st.empty()
        try:

            def progress(step: int, steps: int) -> None:
                queue.ask(session)  # still here
                if step % 5 == 0 or step == steps:
                    bar.progress(step / steps, text=f"fine-tuning: step {step} of {steps}")

            result = fine_tune(shipped, images, labels, mnist(), recipe, on_step=progress)
        except FineTuneError as e:
            st.warning(literal(e))
            return
        finally:
            queue.done(session)
            st.session_state[FINETUNE_ON] = False
        bar.empty()
        st.session_state[PERSONAL] = result
        st.rerun()  # the whole page, so the copy reads the drawing on the canvas at once
    if len(kept) < MIN_DRAWINGS and result is None:
        st.caption(f"Label {MIN_DRAWINGS - len(kept)} more drawing{'s' if MIN_DRAWINGS - len(kept) != 1 else ''} "
                   "to fine-tune (“Was it right?” under the prediction).")
    if result is not None:
        a, b = st.columns(2)
        a.metric(f"Your {result.held_out} held-back drawings, shipped network", f"{result.shipped_held_out:.0%}")
        b.metric("… your personal copy", f"{result.personal_held_out:.0%}",
                 **points_delta(result.personal_held_out - result.shipped_held_out))
        st.caption(literal(
            f"Fine-tuned in {result.seconds:.1f} s ({result.steps} steps on one CPU thread). On "
            f"{result.mnist_held_out} MNIST validation digits, which neither network trained on: shipped "
            f"{result.shipped_mnist:.1%}, personal {result.personal_mnist:.1%}. "
            f"With {result.held_out} held-back drawings each one is {100 / result.held_out:.0f} points: a rough "
            "measure. From now on your copy reads every stroke too, under the prediction."
        ))
        st.button("Forget my personal copy", key="forget_personal", on_click=st.session_state.pop,
                  args=(PERSONAL, None))


def personal_reading_ui(image: np.ndarray) -> None:
    """Under the prediction, once the visitor has a fine-tuned copy: its reading of the same input."""
    result = st.session_state.get(PERSONAL)
    if result is None:
        return
    probs = page_reading(result.model, image)[0]
    top = int(probs.argmax())
    st.markdown(f"**Your personal copy reads it as {top}** ({literal(percent(probs[top]))})")


@st.cache_resource(max_entries=4)
def class_readings(url: str) -> ClassReadings:
    """The networks' readings of one store's drawings, kept between views and shared by every session."""
    return ClassReadings()


MISREAD_SHOWN = 24  # the newest misread drawings the class view shows; only their canvases are fetched


def class_ui(store: DrawingsStore, networks: dict, weights_sha: str | None = None) -> None:
    """The networks measured on the class's drawings. Costs what the drawings' labels and readings cost (a few bytes
    each), plus reading the drawings saved since the last view and fetching the misread ones shown."""
    st.markdown("## The class's drawings")
    try:
        ids, labels, read = class_readings(str(store.url)).update(
            store, networks, reuse=("convnet", weights_sha) if weights_sha else None)
    except StoreError as e:
        st.info(f"No class view: {literal(e)}.")
        return
    if not len(ids):
        st.info("Nobody has saved a labelled drawing on this server yet.")
    else:
        reports = {name: predictions_report(p, labels) for name, p in read.items()}
        cols = st.columns(len(reports))
        for col, (name, r) in zip(cols, reports.items()):
            col.metric(NETWORK_NAMES.get(name, name), f"{r['accuracy']:.1%}",
                       help=f"of {r['count']} drawings read as the digit their writer says they are")
        name = "convnet" if "convnet" in reports else next(iter(reports))
        convnet = reports[name]
        per_digit = ", ".join(f"{d}: {a:.0%} of {n}" for d, (a, n) in
                              enumerate(zip(convnet["per_class_accuracy"], convnet["per_digit_count"])) if n)
        st.caption(literal(f"The convnet, per digit: {per_digit}."))
        left, right = st.columns([1, 1])
        with left:
            chart(confusion_figure(np.array(convnet["confusion"])),
                  confusion_alt(np.array(convnet["confusion"]), "the convnet on the class's drawings"), key="class_cm")
        with right:
            pairs = convnet["confused_pairs"]
            st.markdown("**Most confused**: " + ("; ".join(f"{a} read as {b} ({n}×)" for a, b, n in pairs)
                                                  if pairs else "none: every drawing read right."))
            wrong = np.flatnonzero(read[name] != labels)[::-1][:MISREAD_SHOWN]  # the newest first
            if len(wrong):
                pngs = store.canvases(ids[wrong])
                st.markdown("**Misread by the convnet** (drawn → read)")
                grid = st.columns(6)
                for k, i in enumerate(i for i in wrong if int(ids[i]) in pngs):
                    drawn, p = int(labels[i]), int(read[name][i])
                    grid[k % 6].image(pngs[int(ids[i])], width=70, caption=f"{drawn} → {p}",
                                      alt=f"A drawing labelled {drawn}, read as {p}")
    teacher_ui(store, len(ids))


@st.cache_resource
def save_cap() -> ClientCap:
    """Saves per client address, counted over every session of this server: a new visit starts no new count."""
    return ClientCap()


@st.cache_resource
def key_guard() -> KeyGuard:
    """Every session's guesses at the teacher's key, counted together: one guard per server."""
    return KeyGuard()


def _key_id(secret: str) -> str:
    """What a session keeps once its key was right: the key's hash, so a new key on the server locks it out."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_teacher() -> bool:
    secret = os.environ.get(ENV_TEACHER_KEY)
    return bool(secret) and key_problem(secret) is None and st.session_state.get(TEACHER) == _key_id(secret)


def _try_key() -> None:
    """The key typed (on a change only, so a rerun never counts as another guess), through the guard."""
    secret = os.environ.get(ENV_TEACHER_KEY) or ""
    ok, why = key_guard().check(client_address(), st.session_state.get(TEACHER_KEY), secret)
    st.session_state[TEACHER] = _key_id(secret) if ok else None
    if why:
        st.session_state[TEACHER_KEY_NOTE] = why


TEACHER_PAGE = 100  # drawings the teacher's list shows at once


def teacher_ui(store: DrawingsStore, count: int) -> None:
    """Controls over everyone's drawings: only with the key the server holds, and absent without one."""
    secret = os.environ.get(ENV_TEACHER_KEY)
    if not secret:
        return
    problem = key_problem(secret)
    if problem:
        st.warning(f"The teacher's controls are off: {literal(problem)}; then start the server again.")
        return
    st.text_input("Teacher's key", type="password", key=TEACHER_KEY, on_change=_try_key,
                  help="Set on the server; with it you can delete anyone's drawings.")
    note = st.session_state.pop(TEACHER_KEY_NOTE, None)
    if note:
        st.error(note)
    if not is_teacher():
        return
    st.success(f"Teacher: {count:,} drawings in the store.")
    note = st.session_state.pop(TEACHER_NOTE, None)
    if note:
        st.info(literal(note))
    pages = max(1, -(-count // TEACHER_PAGE))
    page = st.number_input(f"Page (of {pages}, {TEACHER_PAGE} drawings each, newest first)", 1, pages, 1,
                           key="teacher_page") if pages > 1 else 1
    try:
        shown = store.listing((int(page) - 1) * TEACHER_PAGE, TEACHER_PAGE)
    except StoreError as e:
        st.info(f"No list of drawings: {literal(e)}.")
        shown = []
    names = {i: f"{i} · drew {label}, read {p} · {created:%Y-%m-%d %H:%M}" for i, created, label, p in shown}
    ids = st.multiselect("Drawings to delete (by number)", list(names), format_func=names.get, key=TEACHER_PICK)
    a, b = st.columns(2)
    a.button("Delete the chosen drawings", key="teacher_delete", disabled=not ids, on_click=_teacher_delete,
             args=(store, ids))
    b.button("Delete every drawing", key="teacher_delete_all", disabled=not count, on_click=_teacher_delete,
             args=(store, None))
    if count:
        st.download_button(
            "Export every drawing (zip)", lambda: export_zip(store.everyone()), file_name="drawings.zip",
            mime="application/zip", key="teacher_export", on_click="ignore",
            help="Built when you click. MNIST IDX files (python -m cnn.evaluate --drawings reads them), each canvas "
            "as a PNG, and a CSV of what the network read; no visit ids",
        )


def _teacher_delete(store: DrawingsStore, ids: list[int] | None) -> None:
    if not is_teacher():  # checked again when the click arrives
        return
    try:
        gone = store.delete(ids)
    except StoreError as e:
        st.session_state[TEACHER_NOTE] = f"Nothing deleted: {e}."
        return
    st.session_state[TEACHER_PICK] = []
    st.session_state[TEACHER_NOTE] = f"Deleted {gone} drawing{'s' if gone != 1 else ''}."


def your_drawings_ui() -> None:
    """Your drawings and the class's: the gallery, a personal copy, and the class's drawings."""
    gallery_ui(drawings_store())
    st.divider()
    model, error = model_or_error()
    if model is None:
        st.info(f"No personal copy without the shipped network: {literal(error)}")
    else:
        personal_ui(model, live_queue(), get_script_run_ctx().session_id, live_digits)
    st.divider()
    class_ui(drawings_store(), networks(("convnet", "dense44")), weights_sha256())
