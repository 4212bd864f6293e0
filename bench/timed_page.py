"""A page run with its script's time logged, for bench/stroke_split.py: runs the script TIMED_SCRIPT names (app.py,
or bench/least_page.py, in this checkout; or an absolute path, in another checkout of the project, whose root is
then the script's folder) as `streamlit run` would, and appends each run's seconds to the file TIMED_LOG names."""

import os
import runpy
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / os.environ.get("TIMED_SCRIPT", "app.py")  # an absolute path stays
sys.path.insert(0, str(SCRIPT.parent if SCRIPT.name == "app.py" else SCRIPT.parent.parent))

start = time.perf_counter()
try:
    runpy.run_path(str(SCRIPT), run_name="__main__")
finally:
    with open(os.environ["TIMED_LOG"], "a") as log:
        log.write(f"{time.perf_counter() - start:.6f}\n")
