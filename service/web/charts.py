"""Server-side SVG charts for the web pages: plain data in, one inline <svg> out.

Pure (no Flask, no database). Each chart is an image with a <title> and a <desc>
that says in words everything the picture shows, and the pages print the same
numbers in a table beside it. Nothing is told by colour alone: the raw mean is a
ring, the calibrated mean a filled dot with its ± standard error as whiskers, the
bar a tall tick drawn over both, and a competency below the bar carries a triangle
and the words "below bar". Colours are presentation attributes (a page's
Content-Security-Policy may refuse inline style), from a palette that stays
distinct for colour-blind readers and in greyscale, where the shapes carry it.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

INK = "#1a1a1a"  # text, the bar's tick
MUTED = "#595959"  # axis labels, grid (≥ 7:1 on white)
GRID = "#d0d0d0"
RAW = "#1a1a1a"  # the raw mean's ring
CALIBRATED = "#0b5cad"  # the calibrated mean (blue)
BELOW = "#b34700"  # below the bar (dark orange: apart from blue for every kind of colour vision)

# Each row has three lines: the name, the marks on the track, the numbers. Narrow, so
# that on a 390 px phone the text stays about as large as the page's.
WIDTH = 400
PAD_X = 12
ROW_HEIGHT = 80
LEGEND_HEIGHT = 34
AXIS_HEIGHT = 26
FONT = 15
SMALL = 13
RAW_RADIUS = 7
CALIBRATED_RADIUS = 4
TRACK_Y = 42  # the marks' centre line, from the top of the row
TICK_HALF = 13  # the bar's tick reaches this far above and below the markers' centre line


@dataclass(frozen=True)
class IntervalRow:
    """One estimate with its standard error and the size of the record behind it."""

    key: str
    label: str
    value: float | None  # None: no estimate (drawn as a note, not a point)
    se: float | None
    n: int
    note: str = ""  # e.g. "not connected to the rest of the panel"


def competency_profile_svg(
    competencies: Sequence[Mapping[str, Any]],
    *,
    levels: Sequence[int] = (1, 2, 3, 4),
    chart_id: str = "profile",
) -> Markup:
    """The competency profile: per competency the raw mean, the calibrated mean ± SE and
    the bar, on the rubric's scale. `competencies` are the assessment's (`to_dict`)."""
    values = [
        v
        for c in competencies
        for v in (
            *_interval(c["calibrated_mean"], c["standard_error"]),
            c["calibrated_mean"],
            c["raw_mean"],
            c["bar"],
        )
        if v is not None
    ]
    low = min([float(levels[0]), *values])
    high = max([float(levels[-1]), *values])
    scale = _Scale(math.floor(low * 2) / 2, math.ceil(high * 2) / 2)
    height = LEGEND_HEIGHT + ROW_HEIGHT * len(competencies) + AXIS_HEIGHT
    svg = _svg(chart_id, height, "Competency profile", profile_description(competencies))
    _profile_legend(svg)
    top = LEGEND_HEIGHT
    _grid(svg, scale, levels, len(competencies))
    _axis_labels(svg, scale, levels, height, str)
    for index, competency in enumerate(competencies):
        _profile_row(svg, scale, top + index * ROW_HEIGHT, competency)
    return _markup(svg)


def profile_description(competencies: Sequence[Mapping[str, Any]]) -> str:
    """The profile in words, one sentence per competency: the chart's text alternative."""
    sentences = []
    for c in competencies:
        if c["raw_mean"] is None:
            sentences.append(f"{c['name']}: not rated.")
            continue
        se = "" if c["standard_error"] is None else f" ± {c['standard_error']:.2f}"
        bar = "" if c["bar"] is None else f", bar {c['bar']}" + _bar_verdict(c)
        sentences.append(
            f"{c['name']}: calibrated mean {c['calibrated_mean']:.2f}{se}, "
            f"raw mean {c['raw_mean']:.2f}{bar}; {_ratings(c['n_ratings'])}."
        )
    return " ".join(sentences)


def interval_svg(
    rows: Sequence[IntervalRow],
    *,
    title: str,
    value_label: str,
    reference: float = 0.0,
    chart_id: str = "intervals",
) -> Markup:
    """Horizontal estimates ± standard error around a reference line (e.g. each
    interviewer's leniency around 0), each row saying how many ratings stand behind it."""
    values = [v for r in rows for v in (*_interval(r.value, r.se), r.value) if v is not None] + [
        reference
    ]
    reach = max(abs(v - reference) for v in values) or 1.0
    reach = math.ceil(reach * 2) / 2
    scale = _Scale(reference - reach, reference + reach)
    height = LEGEND_HEIGHT + ROW_HEIGHT * len(rows) + AXIS_HEIGHT
    svg = _svg(chart_id, height, title, interval_description(rows, value_label))
    _interval_legend(svg, value_label)
    top, bottom = LEGEND_HEIGHT, LEGEND_HEIGHT + ROW_HEIGHT * len(rows)
    ticks = _ticks(scale.low, scale.high)
    _grid(svg, scale, ticks, len(rows))
    _axis_labels(svg, scale, ticks, height, _signed)
    x = scale.x(reference)
    _line(svg, x, top, x, bottom, INK, 2, cls="reference", dash="4 3")
    for index, row in enumerate(rows):
        _interval_row(svg, scale, top + index * ROW_HEIGHT, row)
    return _markup(svg)


def interval_description(rows: Sequence[IntervalRow], value_label: str) -> str:
    sentences = []
    for r in rows:
        if r.value is None:
            sentences.append(f"{r.label}: no estimate; {_ratings(r.n)}.")
            continue
        se = "" if r.se is None else f" ± {r.se:.2f}"
        note = f" ({r.note})" if r.note else ""
        sentences.append(f"{r.label}: {value_label} {_signed(r.value)}{se}; {_ratings(r.n)}{note}.")
    return " ".join(sentences)


def funnel_svg(stages: Sequence[Mapping[str, Any]], *, chart_id: str = "funnel") -> Markup:
    """The pipeline funnel: per stage a hollow bar of those who entered it and, inside
    it, a solid bar of those who advanced past it, on one count scale; the numbers are
    written beside each. `stages` are the pipeline report's."""
    most = max([1, *(s["entered"] for s in stages)])
    height = LEGEND_HEIGHT + ROW_HEIGHT * len(stages) + 8
    svg = _svg(chart_id, height, "Pipeline funnel", funnel_description(stages))
    _funnel_legend(svg)
    span = WIDTH - 2 * PAD_X
    for index, stage in enumerate(stages):
        top = LEGEND_HEIGHT + index * ROW_HEIGHT
        group = ET.SubElement(svg, "g", {"class": "row", "data-key": stage["stage"]})
        _text(group, PAD_X, top + 18, stage["name"], size=FONT, weight="600", cls="name")
        entered = round(span * stage["entered"] / most, 2)
        advanced = round(span * stage["advanced"] / most, 2)
        _bar(group, PAD_X, top + 30, max(entered, 1), "white", INK, "entered")
        if advanced:
            _bar(group, PAD_X, top + 30, advanced, CALIBRATED, CALIBRATED, "advanced")
        _text(group, PAD_X, top + 70, _funnel_numbers(stage), size=SMALL, fill=MUTED, cls="value")
    return _markup(svg)


def funnel_description(stages: Sequence[Mapping[str, Any]]) -> str:
    return " ".join(f"{s['name']}: {_funnel_numbers(s)}." for s in stages)


def _funnel_numbers(stage: Mapping[str, Any]) -> str:
    text = f"{stage['entered']} entered · {stage['advanced']} advanced"
    if stage["conversion"] is not None:
        text += f" ({stage['conversion']:.0%})"
    return text + f" · {stage['still_there']} still there"


# ---- Rows ---------------------------------------------------------------------


def _profile_row(svg: ET.Element, scale: _Scale, top: float, c: Mapping[str, Any]) -> None:
    group = ET.SubElement(svg, "g", {"class": "row", "data-key": c["key"]})
    below = c.get("clears_bar") is False
    label_y, centre, numbers_y = top + 18, top + TRACK_Y, top + 70
    name_x = PAD_X + 18 if below else PAD_X
    if below:
        _triangle(group, PAD_X + 6, label_y - 5, BELOW)
    name = _text(group, name_x, label_y, c["name"], size=FONT, weight="600", cls="name")
    if below:
        flag = ET.SubElement(
            name, "tspan", {"class": "below-bar", "fill": BELOW, "font-weight": "400"}
        )
        flag.text = " below bar"
    if c["raw_mean"] is None:
        _text(group, PAD_X, numbers_y, "not rated", size=SMALL, fill=MUTED, cls="value")
        return
    se = c["standard_error"]
    value = f"calibrated {c['calibrated_mean']:.2f}" + ("" if se is None else f" ±{se:.2f}")
    value += f" · raw {c['raw_mean']:.2f}"
    if c["bar"] is not None:
        value += f" · bar {c['bar']}"
    _text(group, PAD_X, numbers_y, value, size=SMALL, fill=MUTED, cls="value")
    colour = BELOW if below else CALIBRATED
    low, high = _interval(c["calibrated_mean"], se)
    if low is not None and high is not None:
        _whisker(group, scale.x(low), scale.x(high), centre, colour)
    _circle(group, scale.x(c["raw_mean"]), centre, RAW_RADIUS, "white", RAW, "raw")
    _circle(
        group,
        scale.x(c["calibrated_mean"]),
        centre,
        CALIBRATED_RADIUS,
        colour,
        colour,
        "calibrated",
    )
    if c["bar"] is not None:
        # Drawn last and taller than the markers, so a mean equal to the bar never hides it.
        tick = scale.x(c["bar"])
        _line(group, tick, centre - TICK_HALF, tick, centre + TICK_HALF, INK, 3, cls="bar")


def _interval_row(svg: ET.Element, scale: _Scale, top: float, r: IntervalRow) -> None:
    group = ET.SubElement(svg, "g", {"class": "row", "data-key": r.key})
    label_y, centre, numbers_y = top + 18, top + TRACK_Y, top + 70
    _text(group, PAD_X, label_y, r.label, size=FONT, weight="600", cls="name")
    if r.value is None:
        text = f"no estimate · {_ratings(r.n)}"
    else:
        text = _signed(r.value) + ("" if r.se is None else f" ±{r.se:.2f}") + f" · {_ratings(r.n)}"
    if r.note:
        text += f" · {r.note}"
    _text(group, PAD_X, numbers_y, text, size=SMALL, fill=MUTED, cls="value")
    if r.value is None:
        return
    low, high = _interval(r.value, r.se)
    if low is not None and high is not None:
        _whisker(group, scale.x(low), scale.x(high), centre, CALIBRATED)
    _circle(
        group, scale.x(r.value), centre, CALIBRATED_RADIUS + 1, CALIBRATED, CALIBRATED, "estimate"
    )


# ---- Legends --------------------------------------------------------------------


def _profile_legend(svg: ET.Element) -> None:
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    y = 16
    _circle(legend, PAD_X + 7, y, RAW_RADIUS, "white", RAW, "raw")
    _text(legend, PAD_X + 20, y + 5, "raw mean", size=SMALL, fill=INK)
    x = PAD_X + 110
    _whisker(legend, x - 9, x + 9, y, CALIBRATED)
    _circle(legend, x, y, CALIBRATED_RADIUS, CALIBRATED, CALIBRATED, "calibrated")
    _text(legend, x + 15, y + 5, "calibrated ± SE", size=SMALL, fill=INK)
    x = PAD_X + 236
    _line(legend, x, y - 9, x, y + 9, INK, 3, cls="bar")
    _text(legend, x + 8, y + 5, "bar", size=SMALL, fill=INK)
    x = PAD_X + 290
    _triangle(legend, x, y, BELOW)
    _text(legend, x + 10, y + 5, "below bar", size=SMALL, fill=INK)


def _interval_legend(svg: ET.Element, value_label: str) -> None:
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    y = 16
    _whisker(legend, PAD_X, PAD_X + 18, y, CALIBRATED)
    _circle(legend, PAD_X + 9, y, CALIBRATED_RADIUS + 1, CALIBRATED, CALIBRATED, "estimate")
    _text(legend, PAD_X + 26, y + 5, f"{value_label} ± SE", size=SMALL, fill=INK)
    x = PAD_X + 190
    _line(legend, x, y - 9, x, y + 9, INK, 2, cls="reference", dash="4 3")
    _text(legend, x + 8, y + 5, "none (0)", size=SMALL, fill=INK)


def _funnel_legend(svg: ET.Element) -> None:
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    _bar(legend, PAD_X, 8, 18, "white", INK, "entered")
    _text(legend, PAD_X + 26, 21, "entered the stage", size=SMALL, fill=INK)
    x = PAD_X + 170
    _bar(legend, x, 8, 18, CALIBRATED, CALIBRATED, "advanced")
    _text(legend, x + 26, 21, "advanced past it", size=SMALL, fill=INK)


# ---- Drawing --------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float

    def x(self, value: float) -> float:
        span = WIDTH - 2 * PAD_X - 2 * RAW_RADIUS
        return round(PAD_X + RAW_RADIUS + (value - self.low) / (self.high - self.low) * span, 2)


def _svg(chart_id: str, height: float, title: str, desc: str) -> ET.Element:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "id": chart_id,
            "class": "chart",
            "viewBox": f"0 0 {WIDTH} {height:g}",
            "role": "img",
            "aria-labelledby": title_id,
            "aria-describedby": desc_id,
        },
    )
    ET.SubElement(svg, "title", {"id": title_id}).text = title
    ET.SubElement(svg, "desc", {"id": desc_id}).text = desc
    return svg


def _grid(svg: ET.Element, scale: _Scale, ticks: Sequence[float], rows: int) -> None:
    """Grid lines across each row's track only, so they never cross the row's words."""
    grid = ET.SubElement(svg, "g", {"class": "grid", "stroke": GRID, "stroke-width": "1"})
    for index in range(rows):
        centre = LEGEND_HEIGHT + index * ROW_HEIGHT + TRACK_Y
        for tick in ticks:
            x = f"{scale.x(tick):g}"
            ET.SubElement(
                grid,
                "line",
                {"x1": x, "y1": f"{centre - 16:g}", "x2": x, "y2": f"{centre + 16:g}"},
            )


def _axis_labels(
    svg: ET.Element,
    scale: _Scale,
    ticks: Sequence[float],
    height: float,
    label: Callable[[Any], str],
) -> None:
    """Each tick's value under the axis."""
    for tick in ticks:
        _text(
            svg,
            scale.x(tick),
            height - 8,
            label(tick),
            size=SMALL,
            anchor="middle",
            fill=MUTED,
            cls="level",
        )


def _markup(svg: ET.Element) -> Markup:
    # ElementTree escapes every text and attribute value: user text (names) is safe here.
    return Markup(ET.tostring(svg, encoding="unicode"))


def _text(
    parent: ET.Element,
    x: float,
    y: float,
    text: str,
    *,
    size: int,
    anchor: str = "start",
    fill: str = INK,
    weight: str | None = None,
    cls: str | None = None,
) -> ET.Element:
    attrs = {"x": f"{x:g}", "y": f"{y:g}", "font-size": str(size), "fill": fill}
    if anchor != "start":
        attrs["text-anchor"] = anchor
    if weight:
        attrs["font-weight"] = weight
    if cls:
        attrs["class"] = cls
    element = ET.SubElement(parent, "text", attrs)
    element.text = text
    return element


def _line(
    parent: ET.Element,
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    stroke: str,
    width: float,
    *,
    cls: str,
    dash: str | None = None,
) -> None:
    attrs = {
        "class": cls,
        "x1": f"{x1:g}",
        "y1": f"{y1:g}",
        "x2": f"{x2:g}",
        "y2": f"{y2:g}",
        "stroke": stroke,
        "stroke-width": f"{width:g}",
    }
    if dash:
        attrs["stroke-dasharray"] = dash
    ET.SubElement(parent, "line", attrs)


def _circle(
    parent: ET.Element, cx: float, cy: float, r: float, fill: str, stroke: str, cls: str
) -> None:
    ET.SubElement(
        parent,
        "circle",
        {
            "class": cls,
            "cx": f"{cx:g}",
            "cy": f"{cy:g}",
            "r": f"{r:g}",
            "fill": fill,
            "stroke": stroke,
            "stroke-width": "2",
        },
    )


def _whisker(parent: ET.Element, x1: float, x2: float, y: float, colour: str) -> None:
    group = ET.SubElement(parent, "g", {"class": "se", "stroke": colour, "stroke-width": "2"})
    for a, b in (((x1, y), (x2, y)), ((x1, y - 5), (x1, y + 5)), ((x2, y - 5), (x2, y + 5))):
        ET.SubElement(
            group,
            "line",
            {"x1": f"{a[0]:g}", "y1": f"{a[1]:g}", "x2": f"{b[0]:g}", "y2": f"{b[1]:g}"},
        )


def _bar(
    parent: ET.Element, x: float, y: float, width: float, fill: str, stroke: str, cls: str
) -> None:
    ET.SubElement(
        parent,
        "rect",
        {
            "class": cls,
            "x": f"{x:g}",
            "y": f"{y:g}",
            "width": f"{width:g}",
            "height": "16",
            "fill": fill,
            "stroke": stroke,
            "stroke-width": "2",
        },
    )


def _triangle(parent: ET.Element, x: float, y: float, colour: str) -> None:
    """A downward triangle centred on (x, y): "below bar" without relying on colour."""
    points = f"{x - 6:g},{y - 5:g} {x + 6:g},{y - 5:g} {x:g},{y + 6:g}"
    ET.SubElement(parent, "polygon", {"class": "below-bar", "points": points, "fill": colour})


# ---- Numbers --------------------------------------------------------------------


def _interval(value: float | None, se: float | None) -> tuple[float | None, float | None]:
    if value is None or se is None:
        return None, None
    return value - se, value + se


def _ticks(low: float, high: float) -> list[float]:
    step = 0.5 if high - low <= 4 else 1.0
    count = round((high - low) / step)
    return [round(low + i * step, 2) for i in range(count + 1)]


def _signed(value: float) -> str:
    return f"{value:+.2f}" if value else "0.00"


def _ratings(n: int) -> str:
    return f"{n} rating" + ("" if n == 1 else "s")


def _bar_verdict(c: Mapping[str, Any]) -> str:
    if c.get("clears_bar") is False:
        return " (below bar)"
    if c.get("clears_bar"):
        return " (clears it)"
    return ""
