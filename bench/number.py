"""Reading whole numbers (cnn.number.read_number): accuracy and time, on numbers the project writes itself.

Each number is 2 to 8 digits, at random, written by one hand with the project's digit templates
(cnn.strokes.written_number) on the page's number canvas (600 x 200 pixels): sizes, slants, pens and gaps varied,
and 30% of the 5s, 7s, 4s and 0s written in pieces that do not touch (a 5's lifted bar, a crossed 7, a 4 in two
strokes, an open 0). Two sets:
  - separate: no two digits' ink touches;
  - touching: at least one pair of neighbours moved together until their ink touches (the pairs that touch are
    measured on the drawn ink, and a number with none is left out).
Each set is read twice: from the canvas's pixels alone, and with the strokes the canvas's Fabric.js JSON holds (as
the page reads it). For each set: the share of numbers read exactly (every digit, no digit more or less), the share with the right count
of digits, and the digits read right (one less each digit missed, added or misread: an edit distance). Then the time
to read a number, on one thread, by its count of digits.

    python bench/number.py [--numbers 300] [--seed 2026] [--threads 1]

The segmentation's constants (cnn.number) were chosen on --seed 1; the figures reported are on --seed 2026.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from cnn import atlas as atlas_module
from cnn.number import MAX_DIGITS, NUMBER_HEIGHT, NUMBER_WIDTH, read_number
from cnn.strokes import written_number

PIECES = 0.3  # the chance that a digit with pieces (cnn.strokes.DIGIT_PIECES) is written in them


def edits(a: str, b: str) -> int:
    """Levenshtein distance: the fewest digits added, removed or changed to make `a` into `b`."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def numbers(count: int, touching: bool, rng: np.random.Generator):
    """`count` numbers: (digits as text, the canvas, its strokes)."""
    out = []
    while len(out) < count:
        digits = [int(d) for d in rng.integers(0, 10, int(rng.integers(2, MAX_DIGITS + 1)))]
        canvas, touches, strokes = written_number(digits, rng, NUMBER_HEIGHT, NUMBER_WIDTH, touching, PIECES)
        if any(touches) == touching:
            out.append(("".join(map(str, digits)), canvas, strokes))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numbers", type=int, default=300, help="in each set")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--threads", type=int, default=1, help="torch's threads while reading")
    args = p.parse_args()
    if args.numbers < 1:
        p.error("--numbers must be at least 1")
    import torch

    torch.set_num_threads(args.threads)
    model, atlas = atlas_module.shipped()
    read_number(np.zeros((NUMBER_HEIGHT, NUMBER_WIDTH, 4), np.uint8), model, atlas)  # warm
    rng = np.random.default_rng(args.seed)
    times: dict[tuple[str, int], list[float]] = {}
    print(f"{args.numbers} numbers in each set, seed {args.seed}, {args.threads} thread(s)")
    sets = {"separate": numbers(args.numbers, False, rng), "touching": numbers(args.numbers, True, rng)}
    for how in ("pixels", "strokes"):
        print(f"\nread from the {'canvas and its strokes' if how == 'strokes' else 'canvas alone (its pixels)'}:")
        print(f"{'set':<12}{'exact':>8}{'count right':>13}{'digits right':>14}   misreadings (written -> read)")
        for name, cases in sets.items():
            exact = count = wrong_digits = total_digits = 0
            misses = []
            for text, canvas, strokes in cases:
                start = time.perf_counter()
                reading = read_number(canvas, model, atlas, strokes if how == "strokes" else None)
                times.setdefault((how, len(text)), []).append(time.perf_counter() - start)
                exact += reading.text == text
                count += len(reading.text) == len(text)
                wrong_digits += edits(text, reading.text)
                total_digits += len(text)
                if reading.text != text:
                    misses.append(f"{text}->{reading.text or '(none)'}")
            print(f"{name:<12}{exact / len(cases):8.1%}{count / len(cases):13.1%}"
                  f"{1 - wrong_digits / total_digits:14.1%}   {', '.join(misses[:5])}{' ...' if len(misses) > 5 else ''}")
    print("\ntime to read a number (both sets), by its digits, in ms:")
    print(f"{'digits':>6}{'numbers':>9}" + "".join(f"{how + ' ' + q:>16}" for how in ("pixels", "strokes")
                                                 for q in ("median", "p95")))
    for n in range(2, MAX_DIGITS + 1):
        row = f"{n:>6}{len(times.get(('pixels', n), [])):>9}"
        for how in ("pixels", "strokes"):
            ms = np.array(times.get((how, n), [np.nan])) * 1000
            row += f"{np.median(ms):16.1f}{np.percentile(ms, 95):16.1f}"
        print(row)

if __name__ == "__main__":
    main()
