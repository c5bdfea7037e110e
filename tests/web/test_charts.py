"""The SVG charts: well-formed, labelled, and placing each mark where its value says."""

import xml.etree.ElementTree as ET

import pytest

from service.web.charts import IntervalRow, competency_profile_svg, funnel_svg, interval_svg

NS = {"svg": "http://www.w3.org/2000/svg"}


def competency(key="coding", name="Coding", raw=3.0, calibrated=3.0, se=None, bar=3, n=2):
    clears = None if bar is None or calibrated is None else calibrated >= bar
    return {
        "key": key,
        "name": name,
        "bar": bar,
        "raw_mean": raw,
        "calibrated_mean": calibrated,
        "standard_error": se,
        "clears_bar": clears,
        "n_ratings": n,
    }


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def row(svg: ET.Element, key: str) -> ET.Element:
    found = svg.find(f".//svg:g[@data-key='{key}']", NS)
    assert found is not None, key
    return found


def mark(group: ET.Element, cls: str) -> ET.Element:
    found = group.find(f"./*[@class='{cls}']", NS)
    assert found is not None, cls
    return found


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{{{NS['svg']}}}text")]


def test_the_profile_is_an_image_named_and_described_in_words():
    svg = parse(competency_profile_svg([competency(calibrated=2.5, raw=3.0, se=0.25)]))

    assert svg.get("role") == "img"
    title = svg.find("svg:title", NS)
    desc = svg.find("svg:desc", NS)
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert title.text == "Competency profile"
    assert desc.text == (
        "Coding: calibrated mean 2.50 ± 0.25, raw mean 3.00, bar 3 (below bar); 2 ratings."
    )


def test_a_calibrated_mean_equal_to_the_raw_one_sits_exactly_on_it():
    group = row(parse(competency_profile_svg([competency(raw=2.5, calibrated=2.5)])), "coding")

    raw, calibrated = mark(group, "raw"), mark(group, "calibrated")
    assert (raw.get("cx"), raw.get("cy")) == (calibrated.get("cx"), calibrated.get("cy"))
    assert float(calibrated.get("r")) < float(raw.get("r"))  # the dot shows inside the ring


def test_marks_are_placed_on_the_rubric_scale():
    svg = parse(competency_profile_svg([competency(raw=1.0, calibrated=4.0, bar=2)]))
    group = row(svg, "coding")
    levels = {t.text: t for t in svg.iter(f"{{{NS['svg']}}}text") if t.get("class") == "level"}

    assert list(levels) == ["1", "2", "3", "4"]
    assert mark(group, "raw").get("cx") == levels["1"].get("x")
    assert mark(group, "calibrated").get("cx") == levels["4"].get("x")
    assert mark(group, "bar").get("x1") == levels["2"].get("x")


def test_the_bar_tick_stays_visible_when_a_score_equals_it():
    group = row(
        parse(competency_profile_svg([competency(raw=3.0, calibrated=3.0, bar=3)])), "coding"
    )
    children = list(group)
    raw, bar = mark(group, "raw"), mark(group, "bar")

    assert bar.get("x1") == raw.get("cx")
    assert children.index(bar) > children.index(raw)  # drawn over the markers
    reach = float(raw.get("r")) + 1  # the ring's stroke
    assert float(bar.get("y1")) < float(raw.get("cy")) - reach
    assert float(bar.get("y2")) > float(raw.get("cy")) + reach


def test_below_the_bar_is_said_by_a_shape_and_a_word_not_only_colour():
    svg = parse(
        competency_profile_svg(
            [competency("coding", "Coding", 2.0, 2.25, 0.3), competency("design", "Design")]
        )
    )
    below, clears = row(svg, "coding"), row(svg, "design")

    assert below.find("svg:polygon[@class='below-bar']", NS) is not None
    assert "Coding below bar" in texts(below)
    assert clears.find("svg:polygon", NS) is None
    assert not any("below bar" in t for t in texts(clears))


def test_the_standard_error_spans_the_calibrated_mean_both_ways():
    group = row(parse(competency_profile_svg([competency(calibrated=3.0, se=0.5)])), "coding")
    centre = float(mark(group, "calibrated").get("cx"))
    whisker = mark(group, "se").find("svg:line", NS)

    left, right = float(whisker.get("x1")), float(whisker.get("x2"))
    assert left < centre < right
    assert centre - left == pytest.approx(right - centre, abs=0.02)
    assert "calibrated 3.00 ±0.50 · raw 3.00 · bar 3" in texts(group)


def test_a_competency_nobody_rated_says_so_and_draws_no_marks():
    group = row(
        parse(competency_profile_svg([competency(raw=None, calibrated=None, n=0)])), "coding"
    )

    assert "not rated" in texts(group)
    assert group.find("svg:circle", NS) is None


def test_a_calibrated_mean_beyond_the_rubric_widens_the_axis_instead_of_leaving_it():
    svg = parse(competency_profile_svg([competency(raw=4.0, calibrated=4.4)]))
    group = row(svg, "coding")
    width = float(svg.get("viewBox").split()[2])

    assert float(mark(group, "raw").get("cx")) < float(mark(group, "calibrated").get("cx")) < width


def test_names_are_escaped_text_not_markup():
    svg = competency_profile_svg([competency(name="<script>alert(1)</script>")])

    assert "<script>" not in str(svg)
    assert "<script>alert(1)</script>" in texts(parse(svg))


def test_the_interval_chart_centres_the_reference_and_says_each_record_size():
    svg = parse(
        interval_svg(
            [
                IntervalRow("7", "Alex", 0.4, 0.1, 38),
                IntervalRow("8", "Sam", -0.6, 0.2, 1, note="not connected"),
                IntervalRow("9", "Kim", None, None, 0),
            ],
            title="Leniency",
            value_label="leniency",
        )
    )
    reference = svg.find(".//svg:line[@class='reference']", NS)
    alex, sam, kim = row(svg, "7"), row(svg, "8"), row(svg, "9")
    x0 = float(reference.get("x1"))

    assert float(mark(alex, "estimate").get("cx")) > x0 > float(mark(sam, "estimate").get("cx"))
    assert "+0.40 ±0.10 · 38 ratings" in texts(alex)
    assert "-0.60 ±0.20 · 1 rating · not connected" in texts(sam)
    assert "no estimate · 0 ratings" in texts(kim)
    assert kim.find("svg:circle", NS) is None
    assert svg.find("svg:desc", NS).text == (
        "Alex: leniency +0.40 ± 0.10; 38 ratings. Sam: leniency -0.60 ± 0.20; 1 rating "
        "(not connected). Kim: no estimate; 0 ratings."
    )


def test_the_interval_axis_is_symmetric_around_the_reference():
    svg = parse(interval_svg([IntervalRow("1", "A", 1.2, 0.2, 5)], title="t", value_label="v"))
    levels = [t.text for t in svg.iter(f"{{{NS['svg']}}}text") if t.get("class") == "level"]

    assert levels[0] == "-1.50" and levels[-1] == "+1.50" and "0.00" in levels


def funnel_stage(key, name, entered, advanced, still_there=0):
    return {
        "stage": key,
        "name": name,
        "entered": entered,
        "advanced": advanced,
        "still_there": still_there,
        "conversion": round(advanced / entered, 4) if entered else None,
    }


def test_funnel_bars_are_to_scale_hollow_for_entered_and_solid_for_advanced():
    stages = [funnel_stage("applied", "Applied", 40, 10), funnel_stage("offer", "Offer", 0, 0)]
    svg = parse(funnel_svg(stages))
    applied, offer = row(svg, "applied"), row(svg, "offer")
    entered = applied.find("svg:rect[@class='entered']", NS)
    advanced = applied.find("svg:rect[@class='advanced']", NS)
    assert entered.get("fill") == "white" and advanced.get("fill") != "white"
    assert float(advanced.get("width")) == pytest.approx(float(entered.get("width")) / 4)
    assert offer.find("svg:rect[@class='advanced']", NS) is None  # nobody: no solid bar
    desc = svg.find("svg:desc", NS).text
    assert desc == (
        "Applied: 40 entered · 10 advanced (25%) · 0 still there. "
        "Offer: 0 entered · 0 advanced · 0 still there."
    )
    assert svg.get("role") == "img" and svg.find("svg:title", NS).text == "Pipeline funnel"
