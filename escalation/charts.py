"""Bar charts as SVG geometry, for charts drawn by templates on the server.

The CSP allows neither inline styles nor scripts, so a chart is nothing but SVG attributes
worked out here: the template draws one `<rect>` per bar with a `<title>` as its tooltip.
The KPI page draws one chart per figure with it, the feature requests their asks per week.

Coordinates are plain numbers or strings with a decimal point: Django localizes floats in
templates ("12,5" in German), which an SVG attribute does not understand.
"""

from collections.abc import Sequence
from typing import Any

# The default canvas: bars stand on `bottom`; the tallest reaches `top`. Room above for
# the "max." label and below for the first and last date.
WIDTH, HEIGHT, TOP, BOTTOM = 780, 170, 18, 140
# A bar takes this share of its slot; the rest is the gap to the next one.
BAR_SHARE = 0.7
# A value above zero gets at least this height, so it is not lost next to a tall one.
MIN_HEIGHT = 2


def coordinate(value: float) -> int | str:
    """A number for an SVG attribute: whole numbers as int, others with one decimal."""
    rounded = round(value, 1)
    if rounded == int(rounded):
        return int(rounded)
    return f"{rounded:.1f}"


def bar_chart(
    values: Sequence[float | None],
    *,
    items: Sequence[Any] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    top: int = TOP,
    bottom: int = BOTTOM,
    slot: float | None = None,
    bar: float | None = None,
) -> dict:
    """The geometry of a bar chart of `values` (None: no value, no bar drawn), scaled so the
    highest value reaches `top`. Each bar carries its value and the matching entry of
    `items` (a day, a week …) for the template's labels and tooltips.

    Slots divide the width evenly unless `slot` is given; a bar takes BAR_SHARE of its
    slot unless `bar` is given. Zero bars have height 0 at the baseline: the template
    decides how to show "nothing".
    """
    items = list(values) if items is None else list(items)
    if len(items) != len(values):
        raise ValueError("values and items must have the same length")
    count = len(values)
    slot = slot if slot is not None else (width / count if count else width)
    bar = bar if bar is not None else slot * BAR_SHARE
    present = [value for value in values if value is not None]
    highest = max(present, default=0)
    bars = []
    for index, (value, item) in enumerate(zip(values, items, strict=True)):
        size = 0.0
        if value and highest:
            size = max((bottom - top) * value / highest, MIN_HEIGHT)
        bars.append(
            {
                "index": index,
                "x": coordinate(index * slot + (slot - bar) / 2),
                "y": coordinate(bottom - size),
                "width": coordinate(bar),
                "height": coordinate(size),
                "value": value,
                "missing": value is None,
                "zero": value == 0,
                "item": item,
            }
        )
    return {
        "width": width,
        "height": height,
        "top": top,
        "bottom": bottom,
        "slot": slot,
        "bar": bar,
        "bars": bars,
        "highest": highest,
        "has_values": bool(present),
        "baseline": coordinate(bottom + 0.5),
        "zero_y": bottom - 1,
        "label_y": bottom + 18,
        "max_y": top - 4,
    }
