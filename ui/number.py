"""A whole number: written on a wide canvas, its digits found and read (cnn.number), shown where they were found,
and one digit picked for the rest of the page to explain."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnn.canvas import MAX_STROKES, CanvasError, read_drawing, strokes_in_state
from cnn.number import MAX_DIGITS, NUMBER_HEIGHT, NUMBER_WIDTH, Number, read_number
from ui.analysis import png_data_url
from ui.canvas_tools import clear_button
from ui.figures import percent
from ui.first_screen import drawing_canvas
from ui.markdown import literal
from ui.resources import atlas
from ui.share import ShareError, fabric_strokes
from ui.state import MODE, NUMBER_CANVAS, NUMBER_PEN
from ui.style import CANVAS_HINT

MODES = ("One digit", "A number")
NUMBER_PENS = (4, 30)  # the number canvas's pen widths: its digits are smaller than a single digit's
NUMBER_PEN_DEFAULT = 10  # on digits about 100 pixels tall, strokes like MNIST's once each digit is fitted to 20x20
BOX_COLOUR = (56, 139, 253)  # a digit's box: a blue that stands out from the white ink and the black canvas
UNLIKE_COLOUR = (245, 158, 11)  # a piece that looks like no digit: amber
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")


def number_mode() -> bool:
    """The choice above the canvas: one digit (the lesson's own) or a whole number."""
    choice = st.radio("What to write", MODES, key=MODE, horizontal=True, label_visibility="collapsed",
                      help=f"A number: up to {MAX_DIGITS} digits side by side on a wider canvas, each read in turn.")
    return choice == MODES[1]


def number_canvas_ui(st_canvas):
    """The wide canvas with its pen and Clear; returns what the canvas sent and a place for the short answer."""
    full = strokes_in_state(st.session_state.get(NUMBER_CANVAS)) >= MAX_STROKES
    result = drawing_canvas(st_canvas, NUMBER_CANVAS, NUMBER_WIDTH, NUMBER_HEIGHT,
                            st.session_state.get(NUMBER_PEN, NUMBER_PEN_DEFAULT), full)
    answer = st.empty()
    pen, clear = st.columns([2, 1], vertical_alignment="bottom")
    pen.slider("Pen width", *NUMBER_PENS, NUMBER_PEN_DEFAULT, key=NUMBER_PEN,
               help="About a tenth of your digits' height gives strokes like MNIST's once each digit is scaled down.")
    with clear:
        clear_button()
    if full:
        st.info(f"The canvas holds {MAX_STROKES} strokes, the most it takes: press Clear to write again.")
    else:
        st.html(CANVAS_HINT)
    return result, answer


def read_number_canvas(result, model) -> tuple[Number | None, str | None]:
    """The number on the canvas (None before the first stroke), or why it cannot be read. The canvas's strokes
    tell touching digits apart; where its JSON holds no pen strokes the page can read, the pixels alone are read."""
    try:
        rgba, _ = read_drawing(result, NUMBER_WIDTH, NUMBER_HEIGHT)
    except CanvasError as e:
        return None, str(e)
    if rgba is None:
        return None, None
    try:
        strokes = fabric_strokes(getattr(result, "json_data", None), int(st.session_state.get(NUMBER_PEN, NUMBER_PEN_DEFAULT)))
    except ShareError:
        strokes = None
    found, _ = atlas()
    return read_number(rgba, model, found, strokes or None), None


def found_picture(number: Number, shape: tuple[int, int], picked: int | None) -> np.ndarray:
    """The writing, white on black, with a box and its reading drawn around each digit found (the picked one's box
    thicker): (H, W, 3) uint8, the canvas's size."""
    from PIL import Image, ImageDraw, ImageFont

    ink = np.zeros(shape, np.float32)
    for d in number.digits:
        top, bottom, left, right = d.box
        np.maximum(ink[top:bottom, left:right], d.ink, out=ink[top:bottom, left:right])
    picture = Image.fromarray((np.clip(ink, 0, 1) * 255).round().astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=16)
    for i, d in enumerate(number.digits):
        top, bottom, left, right = d.box
        colour = UNLIKE_COLOUR if d.unlike else BOX_COLOUR
        draw.rectangle((left - 3, top - 3, right + 2, bottom + 2), outline=colour, width=4 if i == picked else 2)
        label = f"{d.text} {percent(d.probability)}" if not d.unlike else "?"
        y = top - 22 if top >= 24 else bottom + 4
        draw.rectangle(draw.textbbox((left - 3, y), label, font=font), fill=(0, 0, 0))
        draw.text((left - 3, y), label, fill=colour, font=font)
    return np.asarray(picture)


def digit_words(d) -> str:
    return "looks like no digit" if d.unlike else f"{d.digit} ({percent(d.probability)})"


def number_ui(number: Number | None, problem: str | None) -> int | None:
    """The number read, where each digit was found, and the digit to explain; returns its index (None: none)."""
    if problem:
        st.error(f"This writing could not be read: {literal(problem)}.")
        return None
    if number is None or not number.digits:
        st.info(f"Write a number of up to {MAX_DIGITS} digits side by side on the black strip. The page finds the "
                "digits, reads each as MNIST's digits were read, and reads the number.")
        return None
    st.metric("Number", number.text,
              help="Each digit is cropped, fitted into 20×20 and centred, as a single drawing is, then read; ? marks "
                   "a piece that looks like none of the digits the network knows.")
    picked_key = f"pick-{number.text}-{len(number.digits)}"  # a new reading starts from its least sure digit
    picked = st.session_state.get(picked_key, number.least_sure())
    src = png_data_url(found_picture(number, number.digits[0].canvas_shape, picked))
    alt = (f"Your writing with a box around each of the {len(number.digits)} digits found, left to right: "
           + ", ".join(digit_words(d) for d in number.digits) + ".")
    st.html(f'<figure style="margin:0"><img src="{src}" alt="{html.escape(alt)}" style="width:100%;display:block">'
            '<figcaption style="font-size:0.875rem;padding-top:0.25rem">Where it found the digits: a box and a '
            "reading for each.</figcaption></figure>")
    notes = []
    touching = sum(d.touching for d in number.digits)
    if touching:
        notes.append(f"{touching} digits were cut from ink they shared with a neighbour, where the network read both "
                     "parts surest.")
    if number.left_out:
        notes.append(f"{number.left_out} piece{'s' if number.left_out > 1 else ''} of ink not read: specks too small "
                     f"to be a digit, or digits beyond the first {MAX_DIGITS}.")
    unlike = [i for i, d in enumerate(number.digits) if d.unlike]
    if unlike:
        d = number.digits[unlike[0]]
        notes.append(f"**?** marks ink that looks like none of the digits the network knows; the network itself, "
                     f"which must always choose a digit, would read the {ORDINALS[unlike[0]]} as {d.digit} "
                     f"({percent(d.probability)}).")
    if notes:
        st.caption(" ".join(notes))
    return st.radio(
        "Explain which digit? The parts below explain this one.",
        range(len(number.digits)),
        index=number.least_sure(),
        format_func=lambda i: f"{ORDINALS[i]}: {number.digits[i].text}",
        horizontal=True,
        key=picked_key,
        help="At first, the digit the network is least sure of.",
    )
