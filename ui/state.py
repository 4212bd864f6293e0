"""What a session keeps, each key named once: the page's own state with its initial value, and the widgets whose
values other code reads through st.session_state. main() calls init() first, so every part finds its state there."""

from __future__ import annotations

import streamlit as st

# --- the page's own state, with initial values ---------------------------------------------------------------------
LABELLED = "labelled"  # {drawing key: its label, reading, thumbnail, 28x28 image and id if saved}: this tab's
READING = "reading"  # the reading the "Was it right?" buttons label now: one per tab, replaced by each stroke
LABELLED_NOW = "labelled_now"  # a label just arrived: the whole page runs again, so Your drawings shows it
LABEL_NOTE = "label_note"  # why the last label was not kept or saved
SAVE_ON = "save_on"  # the visitor chose to save labelled drawings on the server
REMEMBER_VISIT = "remember_visit"  # set the visit's cookie on the next run (after the first save)
VISITOR = "visitor"  # this visit's random id (ui.drawings.visitor)
GALLERY_NOTE = "gallery_note"  # why a delete failed
PERSONAL = "personal"  # the personal copy (classroom.finetune.FineTuneResult), once fine-tuned
FINETUNE_ON = "finetune_on"  # the visitor asked for a personal copy: waiting for its turn, or training
LIVE_ON = "live_on"  # the visitor asked to train a network live: waiting for its turn, or training
TEACHER = "teacher"  # the hash of the teacher's key this session gave right, else None
TEACHER_KEY_NOTE = "teacher_key_note"  # why the key typed was refused
TEACHER_NOTE = "teacher_note"  # what the teacher's last delete did
GUESSES = "guesses"  # {question key: the learner's answer}: a question answered shows its answer

INITIAL = {
    LABELLED: dict, READING: None, LABELLED_NOW: False, LABEL_NOTE: None, SAVE_ON: False, REMEMBER_VISIT: False,
    GALLERY_NOTE: None, PERSONAL: None, FINETUNE_ON: False, LIVE_ON: False, TEACHER: None, TEACHER_KEY_NOTE: None,
    TEACHER_NOTE: None,
    GUESSES: dict,
}  # VISITOR has none: it is made when first asked for (from the browser's cookie, or new)

# --- widgets whose values are read through st.session_state (their initial values are the widgets' own) -----------
CANVAS = "canvas"  # the drawable canvas's value: the strokes (Fabric.js JSON) and the image
PEN = "pen"  # the pen width slider
MODE = "mode"  # one digit or a whole number (ui/number.py)
NUMBER_CANVAS, NUMBER_PEN = "number_canvas", "number_pen"  # the number's canvas and its pen width slider
C1D_X, C1D_H, C1D_PRESET = "c1d_x", "c1d_h", "c1d_preset"  # the 1D explorer's input, kernel and preset
SAVE_TOGGLE = "save_toggle"  # the "Save my labelled drawings" toggle
TEACHER_KEY = "teacher_key"  # the key typed in
TEACHER_PICK = "teacher_pick"  # the drawings the teacher chose to delete


def init() -> None:
    """Every key of the page's own state, at its initial value where the session does not have it yet."""
    for key, value in INITIAL.items():
        if key not in st.session_state:
            st.session_state[key] = value() if callable(value) else value
