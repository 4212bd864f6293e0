"""The page's own CSS and the canvas's hint: layout and colours the theme does not give."""

# Less empty space above the title, so the canvas, the network's input and the prediction fit one laptop screen.
PAGE_CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem}
h1 {font-size: 2.1rem !important; padding-bottom: 0.2rem !important}
/* The page's section headings are h2 under the h1, for screen readers' outline, at the size of a small heading */
[data-testid="stMarkdownContainer"] h2 {font-size: 1.25rem !important; font-weight: 600 !important; padding: 0.75rem 0 0.5rem !important}
/* A chapter's title stands out from the sections; the parts inside a chapter are h3, smaller than a section */
h2.chapter {font-size: 1.7rem; font-weight: 700; margin: 1.25rem 0 0.25rem; scroll-margin-top: 4rem}
[data-testid="stMarkdownContainer"] h3 {font-size: 1.1rem !important; font-weight: 600 !important; padding: 1rem 0 0.25rem !important}
/* Colours follow the theme, light or dark (.streamlit/config.toml): none is written here. Captions take the theme's
   text colour, faded less than Streamlit's opacity 0.6 (3.9:1 on white): at 75% they keep WCAG AA's 4.5:1 in the
   light theme (6:1) and the dark (9:1). */
[data-testid="stCaptionContainer"] {opacity: 1 !important}
[data-testid="stCaptionContainer"], .canvas-hint {color: color-mix(in srgb, currentColor 75%, transparent) !important}
/* Small words Streamlit writes in the theme's red (a slider's value, the chosen segment, the open tab) take the text
   colour: the dark theme's red cannot be 4.5:1 on the dark page and under a primary button's white words at once.
   The red still marks them: the slider's thumb, the segment's tint and border, the tab's underline. */
[data-testid="stSliderThumbValue"], [data-testid="stButtonGroup"] button[aria-checked="true"],
[role="tab"][aria-selected="true"] {color: inherit !important}
/* Segmented controls wrap onto more lines, and so do their labels, where a phone has no room for them in one row
   (Streamlit's own scroll sideways, with their ends faded out, and cut a long label with an ellipsis). Their segments
   stand apart, each with its whole border and corners, which joined segments lose at the start of a line. */
[data-testid="stButtonGroup"] [role="radiogroup"] {flex-wrap: wrap; gap: .25rem; overflow: visible; mask-image: none}
[data-testid="stButtonGroup"] button {margin: 0 !important; border-radius: .5rem !important}
[data-testid="stButtonGroup"] button[aria-checked="false"]:not(:hover, :focus-visible) {border-color: color-mix(in srgb, currentColor 20%, transparent) !important}
[data-testid="stButtonGroup"] button, [data-testid="stButtonGroup"] button * {max-width: 100%; white-space: normal !important; overflow: visible !important}
/* The 1D explorer's table scrolls sideways on a narrow screen: there its row names wrap, leaving more room for the
   numbers, and a shade marks the side that has more to see (in the text colour, so it shows in either theme; where
   scroll-driven animations are missing, no shade) */
@media (max-width: 640px) {.c1d-wrap .c1d th {white-space: normal; width: 6rem}}
@supports (animation-timeline: scroll()) {
  .c1d-wrap {--shade: color-mix(in srgb, currentColor 45%, transparent); animation: c1d-more linear both;
             animation-timeline: scroll(self inline)}
  @keyframes c1d-more {
    from {box-shadow: inset 1.5rem 0 1rem -1rem transparent, inset -1.5rem 0 1rem -1rem var(--shade)}
    10%, 90% {box-shadow: inset 1.5rem 0 1rem -1rem var(--shade), inset -1.5rem 0 1rem -1rem var(--shade)}
    to {box-shadow: inset 1.5rem 0 1rem -1rem var(--shade), inset -1.5rem 0 1rem -1rem transparent}
  }
}
.canvas-hint {font-size: 0.875rem}
/* A touch screen cannot hover: the canvas's toolbar stays shown there (ui/canvas_tools.py), and the hint says so */
@media (hover: none) {.canvas-hint .on-hover {display: none}}
@media (hover: hover) {.canvas-hint .on-touch {display: none}}
/* Below 640 px Streamlit stacks the columns: the short answer under the canvas keeps the prediction in view */
.short-answer {display: none}
@media (max-width: 640px) {.short-answer {display: block; font-size: 1.15rem; padding: 0.25rem 0}}
</style>"""
CANVAS_HINT = (
    '<div class="canvas-hint"><span class="on-hover">Undo, redo and reset: hover over the canvas.</span>'
    '<span class="on-touch">Undo, redo and reset: the buttons above the canvas. Draw with a finger or a stylus.</span>'
    "</div>"
)
