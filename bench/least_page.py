"""The least page that does the page's job, for bench/stroke_split.py to time the page against: the same canvas (with
the same Clear and fast send, ui/canvas_tools.py), the same preparation and network, the prediction, its probability
and the ten probabilities' chart. Nothing else.

    streamlit run bench/least_page.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from cnn.canvas import CANVAS_SIZE, DEFAULT_PEN, read_drawing
from cnn.model import load, page_reading
from cnn.preprocess import canvas_to_mnist
from ui.canvas_tools import clear_button
from ui.figures import percent, plotted_probability_figure

model = st.cache_resource(load)()
result = st_canvas(stroke_width=DEFAULT_PEN, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_SIZE,
                   width=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True, key="canvas")
clear_button()
rgba, _ = read_drawing(result, CANVAS_SIZE, CANVAS_SIZE)
image = canvas_to_mnist(rgba) if rgba is not None else None
if image is not None:
    probs = page_reading(model, image)[0]
    top = int(np.argmax(probs))
    st.metric("Prediction", str(top))
    st.metric("Probability", percent(probs[top]))
    # plotly's figure, built and validated on every stroke as a plain page builds it: the reference stays what it was
    # when the page's own charts were made faster (ui.figures.probability_figure)
    st.plotly_chart(plotted_probability_figure(probs))
