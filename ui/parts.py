"""The page's parts, by the names its tabs show: the ones about the visitor's drawing, and the lessons below them."""

ANALYSIS_TABS = [
    "Feature maps", "Step by step", "How sure is it?", "Why this digit?", "2D convolution", "Move it", "How it learned",
]
LESSON_TABS = [
    "1D convolution padding", "The model and its parameters", "Dense against convolution", "How it was trained",
    "Your drawings and the class's",
]
