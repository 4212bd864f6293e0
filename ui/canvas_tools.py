"""The canvas's Clear button and fast send, both done in the browser with no round trip to the server.

Clear presses the canvas component's own "Reset canvas & history" button: the canvas empties at once, in place, and
sends the empty drawing. A stroke drawn right after is drawn on the same canvas and sent after it, so nothing drawn
is lost (a Clear that rebuilt the canvas from the server lost strokes drawn during the round trip).

On a touch screen the canvas's toolbar (undo, redo, reset), which otherwise appears on hover, stays shown; the black
square has an edge in the theme's text colour, so it stands out from a dark page too; and the drawing surface carries
a description for screen readers.

Fast send: streamlit-drawable-canvas 0.13 waits 200 ms after each mouse-up before sending the drawing (a trailing
debounce), which was the largest single part of the time from mouse-up to prediction. Its toolbar's upload button
sends at once and cancels the pending send; this script presses it right after the pen lifts from the canvas. If
the button is ever missing, nothing happens and the debounced send still arrives.
"""

from __future__ import annotations

import streamlit as st

HTML = '<button type="button" class="clear" title="Clear the canvas">Clear</button>'

CSS = """
.clear {
  width: 100%; min-height: 2.5rem; padding: .25rem .75rem; cursor: pointer;
  font: inherit; font-family: var(--st-font, "Source Sans", sans-serif); font-size: 1rem; line-height: 1.6;
  color: var(--st-text-color, #31333f); background: var(--st-background-color, #fff);
  border: 1px solid var(--st-border-color, rgba(49, 51, 63, .2)); border-radius: var(--st-button-radius, .5rem);
}
.clear:hover, .clear:focus-visible {
  border-color: var(--st-primary-color, #c0262d); color: var(--st-primary-color, #c0262d); outline: none;
}
.clear:active { background: var(--st-primary-color, #c0262d); color: #fff; }
"""

JS = """
// A button of the drawing canvas's own toolbar, found inside the component's shadow root.
const canvasButton = (title) => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const button = host.shadowRoot && host.shadowRoot.querySelector(`.dc-root button[title="${title}"]`);
    if (button) return button;
  }
  return null;
};

export default function ({ parentElement, data, setTriggerValue }) {
  const clear = parentElement.querySelector('button.clear');
  // A drawing a link brought is the canvas's starting point, which its reset goes back to: the server then starts
  // the canvas empty instead.
  clear.onclick = () => {
    if (data && data.shared) { setTriggerValue('clear', Date.now()); return; }
    const reset = canvasButton('Reset canvas & history');
    if (reset) reset.click();
  };

  if (window.__digitFastSend) return;
  window.__digitFastSend = true;
  // The canvas's styles live in the component's shadow root, out of reach of the page's CSS, so these rules go in
  // there (again if it is rebuilt). The toolbar shows on hover, which a touch screen cannot do: there it stays shown.
  // The black square gets an edge in the theme's text colour, half faded (5:1 on the dark page): an outline, which
  // takes no room, so the pen lands where it did; on the top canvas, just inside it, as the component clips what lies
  // outside and the canvases cover their wrappers' outlines.
  const styleCanvas = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const shadow = host.shadowRoot;
      if (!shadow || !shadow.querySelector('.dc-root') || shadow.querySelector('style.digit-canvas')) continue;
      const style = document.createElement('style');
      style.className = 'digit-canvas';
      style.textContent = '@media (hover: none) { .dc-toolbar { opacity: 1; top: -2.65rem; transition: none; } } ' +
        'canvas.upper-canvas { outline: 1px solid color-mix(in srgb, var(--st-text-color, #31333f) 50%, transparent); ' +
        'outline-offset: -1px; }';
      shadow.appendChild(style);
      // and the drawing surface says what it is, for a screen reader
      const surface = shadow.querySelector('canvas.upper-canvas');
      if (surface) {
        const wide = surface.width > surface.height;  // the number canvas (ui/number.py)
        surface.setAttribute('role', 'img');
        surface.setAttribute('aria-label', wide
          ? `Drawing canvas, ${surface.width} by ${surface.height} pixels: write a number of up to 8 digits side by ` +
            'side with a mouse, a finger or a stylus. The number read appears under The number it reads.'
          : 'Drawing canvas, 280 by 280 pixels: draw one digit from 0 to 9 with a mouse, a finger or a stylus. ' +
            'The reading appears under What it reads when the pen lifts.');
      }
    }
    fitCanvas();
  };
  // The number canvas (wider than tall), where it is wider than the room it has (on a phone), is shown smaller with
  // CSS zoom: Fabric.js measures the canvas as shown, so the pen still lands where the finger is, and the drawing
  // sent keeps its size. The digit's square canvas is left as it always was.
  const fitCanvas = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const box = host.shadowRoot && host.shadowRoot.querySelector('.dc-root .dc-container');
      const room = host.getBoundingClientRect().width;
      if (!box || !room || !(parseFloat(box.style.width) > parseFloat(box.style.height))) continue;
      const natural = parseFloat(box.style.width) || box.offsetWidth;
      const zoom = natural > room ? String(Math.floor((room / natural) * 1000) / 1000) : '';
      if (box.style.zoom !== zoom) box.style.zoom = zoom;
    }
  };
  window.addEventListener('resize', fitCanvas);
  styleCanvas();
  setInterval(styleCanvas, 1000);
  let root = null;  // the canvas the pen went down on
  const down = (event) => {
    const path = event.composedPath();
    const onCanvas = path.some((el) => el.classList && el.classList.contains('upper-canvas'));
    root = onCanvas ? path.find((el) => el.classList && el.classList.contains('dc-root')) : null;
  };
  const up = () => {
    if (!root) return;
    const button = root.querySelector('button[title="Update the app with this drawing"]');
    root = null;
    // After the canvas's own mouse-up work (it saves the stroke in a microtask), send at once.
    if (button) setTimeout(() => button.click(), 0);
  };
  window.addEventListener('pointerdown', down, true);
  window.addEventListener('pointerup', up, true);
  window.addEventListener('pointercancel', up, true);
}
"""

_component = st.components.v2.component("digit-page.canvas-tools", html=HTML, css=CSS, js=JS)


def clear_button(shared: bool = False, on_clear_shared=None) -> None:
    """The Clear button; mounting it also installs the fast send (its listeners are installed a single time).
    `shared`: the canvas started from a link's drawing, and Clear calls `on_clear_shared` on the server."""
    _component(key="canvas-tools", width="stretch", data={"shared": shared}, on_clear_change=on_clear_shared)
