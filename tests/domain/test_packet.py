"""The packet's view model from plain inputs, without app or database."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.assessment_inputs import InterviewIn, LeniencyIn, RatingIn, ScorecardIn
from service.domain.packet import anonymous_code, build_packet
from service.domain.packet_inputs import (
    ApplicationIn,
    CalibrationRunIn,
    CandidateIn,
    PacketInputs,
    RevisionIn,
    RoleIn,
    ScorecardHistoryIn,
    StageChangeIn,
)
from service.domain.template_loading import TEMPLATE_DIR, load_template_file

KEY = b"test pseudonym key"
TEMPLATE = load_template_file(TEMPLATE_DIR / "backend_engineer.yaml")
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
DAY = timedelta(days=1)
CANDIDATE = CandidateIn(
    "Grace Hopper",
    "grace.hopper@example.org",
    "+44 20 7946 0123",
    ("https://gh.io/grace",),
    "referral",
)


def scorecard(scorecard_id, interviewer_id, name, interview_key, score, evidence):
    competencies = TEMPLATE.interview(interview_key).competencies
    return ScorecardIn(
        scorecard_id=scorecard_id,
        interview_id=100 + scorecard_id,
        interview_key=interview_key,
        interviewer_id=interviewer_id,
        interviewer_name=name,
        recommendation="yes",
        summary="Grace was clear; she tested her code.",
        ratings=tuple(RatingIn(c, score, evidence) for c in competencies),
        submitted_at=NOW - 2 * DAY,
        late=False,
        revision=1,
        after_seeing_others=False,
    )


def history(card, *revised_at):
    return ScorecardHistoryIn(
        scorecard_id=card.scorecard_id,
        duration_minutes=60,
        actual_minutes=None,
        first_saw_others_at=None,
        revisions=tuple(
            RevisionIn(n + 1, at, "" if n == 0 else "typo", "yes", False)
            for n, at in enumerate(revised_at)
        ),
    )


def inputs(**changes) -> PacketInputs:
    design = scorecard(
        2, 12, "Ben", "system_design", 2, "Grace Hopper drew the queue; she sharded it."
    )
    pairing = scorecard(1, 11, "Ana", "pair_programming", 3, "Wrote a parser and tested it.")
    cards = (design, pairing)
    base = PacketInputs(
        template=TEMPLATE,
        role=RoleIn("Backend engineer", "Payments", "Hannah Manager"),
        candidate=CANDIDATE,
        application=ApplicationIn(7, "onsite", "active", anonymous_code(7, KEY)),
        scorecards=cards,
        interviews=(
            # Ben's system design came first, so his page comes first.
            InterviewIn(102, "system_design", 12, "Ben", "completed", NOW - 4 * DAY, "submitted"),
            InterviewIn(
                101, "pair_programming", 11, "Ana", "completed", NOW - 3 * DAY, "submitted"
            ),
        ),
        deviations=(),
        leniencies={11: LeniencyIn(11, 0.5, 0.2, 40, True, "Ana scores 0.5 above co-panelists.")},
        calibration=CalibrationRunIn(3, NOW - DAY / 2),
        histories={
            1: history(pairing, NOW - 2 * DAY),
            2: history(design, NOW - 2 * DAY, NOW - DAY),
        },
        timeline=(
            StageChangeIn("applied", None, "applied", NOW - 20 * DAY, None, ""),
            StageChangeIn(
                "moved", "applied", "onsite", NOW - 12 * DAY, "Rita", "Grace asked for May"
            ),
        ),
        decision=None,
        now=NOW,
    )
    return replace(base, **changes)


def test_same_inputs_give_the_same_view_model():
    assert json.dumps(build_packet(inputs(), False)) == json.dumps(build_packet(inputs(), False))


def test_named_view_shows_the_candidate_and_their_contact_details():
    view = build_packet(inputs(), anonymized=False)
    assert view["candidate"] == {
        "display": "Grace Hopper",
        "email": "grace.hopper@example.org",
        "phone": "+44 20 7946 0123",
        "links": ["https://gh.io/grace"],
        "source": "referral",
    }
    assert "Grace Hopper drew the queue" in view["interviews"][0]["ratings"][0]["evidence"]


def test_anonymized_view_names_the_candidate_nowhere():
    view = build_packet(inputs(), anonymized=True)
    assert view["candidate"] == {"display": anonymous_code(7, KEY)}
    everything = json.dumps(view).lower()
    for identifying in ("grace", "hopper", "7946", "gh.io", " she "):
        assert identifying not in everything, identifying
    assert "[candidate] drew the queue; they sharded it." in everything
    assert view["timeline"][1]["reason"] == "[candidate] asked for May"


def test_redaction_reaches_the_assessment_quotes():
    view = build_packet(inputs(), anonymized=True)
    quoted = [line["evidence"] for c in view["assessment"]["competencies"] for line in c["scores"]]
    assert quoted and not any("Grace" in text for text in quoted)


def test_interview_pages_follow_the_loop_with_anchors_history_and_calibration_notes():
    design, pairing = build_packet(inputs(), False)["interviews"]
    assert (design["interviewer_name"], pairing["interviewer_name"]) == ("Ben", "Ana")
    assert design["title"] == TEMPLATE.interview("system_design").title
    assert [r["number"] for r in design["revisions"]] == [1, 2]
    rating = design["ratings"][0]
    competency = TEMPLATE.competency(rating["competency"])
    assert rating["anchor"] == competency.anchor(2) and rating["name"] == competency.name
    assert pairing["calibration_note"].startswith("Ana scores 0.5")


def test_each_panelists_calibration_state_is_in_the_view_model():
    states = build_packet(inputs(), False)["calibration"]["interviewers"]
    ana = next(s for s in states if s["interviewer_id"] == 11)
    assert (ana["state"], ana["applied"]) == ("applied", True)
    assert ana["note"].startswith("Ana scores 0.5")
    others = [s for s in states if s["interviewer_id"] != 11]
    assert others and all((s["state"], s["applied"]) == ("not_in_fit", False) for s in others)


def test_matrix_has_a_column_per_interview_and_calibrated_cells():
    matrix = build_packet(inputs(), False)["matrix"]
    assert [c["interviewer"] for c in matrix["columns"]] == ["Ben", "Ana"]
    coding = next(row for row in matrix["rows"] if row["key"] == "coding")
    assert coding["cells"][0] is None  # system design does not assess coding
    assert coding["cells"][1] == {"raw": 3, "calibrated": 2.5, "dissent": False}


def test_stages_measure_days_against_the_target():
    applied, onsite = build_packet(inputs(), False)["stages"]
    assert (applied["days"], applied["target_days"], applied["over_target"]) == (8.0, 3, True)
    assert (onsite["left"], onsite["days"]) == (None, None)


def test_data_as_of_is_the_newest_input_date():
    assert build_packet(inputs(), False)["data_as_of"] == (NOW - DAY).isoformat()
    decided = {"created_at": NOW.isoformat(), "outcome": "hire", "rationale": ""}
    assert build_packet(inputs(decision=decided), False)["data_as_of"] == NOW.isoformat()


def run_status(view):
    return {key: view["calibration"][key] for key in ("run_id", "fitted_at", "pending")}


def test_a_run_fitted_after_the_newest_revision_is_not_pending():
    assert run_status(build_packet(inputs(), False)) == {
        "run_id": 3,
        "fitted_at": (NOW - DAY / 2).isoformat(),
        "pending": False,
    }


def test_a_run_older_than_the_newest_revision_is_pending():
    older = CalibrationRunIn(3, NOW - DAY - timedelta(seconds=2))
    calibration = build_packet(inputs(calibration=older), True)["calibration"]
    assert (calibration["run_id"], calibration["pending"]) == (3, True)


def test_no_run_while_scores_exist_is_pending():
    assert run_status(build_packet(inputs(calibration=None), False)) == {
        "run_id": None,
        "fitted_at": None,
        "pending": True,
    }


def test_no_run_and_no_scores_is_not_pending():
    view = build_packet(inputs(calibration=None, scorecards=(), histories={}), False)
    assert view["calibration"]["pending"] is False


def test_anonymized_view_carries_no_application_id_nor_shared_version():
    decided = {
        "outcome": "hire",
        "rationale": "Grace showed the strongest ownership.",
        "decided_by": "Hannah Manager",
        "created_at": NOW.isoformat(),
        "against_majority": False,
        "packet_version": 3,
    }
    view = build_packet(inputs(decision=decided), anonymized=True)
    assert view["application"] == {"stage": "onsite", "status": "active"}
    assert "packet_version" not in view["decision"]
    assert view["decision"]["rationale"] == "[candidate] showed the strongest ownership."
    assert build_packet(inputs(decision=decided), False)["decision"]["packet_version"] == 3


def test_anonymized_view_redacts_amendment_and_deviation_reasons():
    from service.domain.assessment_inputs import DeviationIn

    skipped = DeviationIn("skipped", "project_deep_dive", None, "Rita", "Grace is ill", NOW)
    base = inputs(deviations=(skipped,))
    revised = replace(
        base.histories[2],
        revisions=(
            base.histories[2].revisions[0],
            RevisionIn(2, NOW, "Hopper asked", "yes", False),
        ),
    )
    view = build_packet(replace(base, histories={**base.histories, 2: revised}), True)
    assert view["interviews"][0]["revisions"][1]["reason"] == "[candidate] asked"
    assert "Grace" not in json.dumps(view["assessment"]["flags"])


def test_file_names():
    from service.domain.packet import packet_file_name

    named, blind = build_packet(inputs(), False), build_packet(inputs(), True)
    assert packet_file_name(7, 2, named) == "hiring-packet-application-7-v2.pdf"
    code = anonymous_code(7, KEY).removeprefix("Candidate ").lower()
    assert packet_file_name(7, 2, blind) == f"hiring-packet-candidate-{code}.pdf"


def test_the_anonymous_code_cannot_be_computed_without_the_key():
    assert anonymous_code(7, KEY) == anonymous_code(7, KEY)
    assert anonymous_code(7, KEY) != anonymous_code(7, b"another deployment")
    assert anonymous_code(7, KEY) != anonymous_code(8, KEY)


def with_deep_dive(score=4, **changes):
    """The inputs plus Cy's project deep-dive, which also rates system design."""
    base = inputs(**changes)
    cy = scorecard(3, 13, "Cy", "project_deep_dive", score, "Sharded the ledger by merchant.")
    interview = InterviewIn(
        103, "project_deep_dive", 13, "Cy", "completed", NOW - 2 * DAY, "submitted"
    )
    return replace(
        base,
        scorecards=(*base.scorecards, cy),
        interviews=(*base.interviews, interview),
        histories={**base.histories, 3: history(cy, NOW - 2 * DAY)},
    )


def test_two_raters_apart_make_one_disagreement_in_plain_words():
    view = build_packet(with_deep_dive(), False)
    assert (
        len([d for d in view["assessment"]["dissents"] if d["competency"] == "system_design"]) == 2
    )
    (split,) = [d for d in view["disagreements"] if d["competency"] == "system_design"]
    assert split["message"] == (
        "Ben rated System design 2; the other interviewer (Cy) rated it 4 \u2014 read both."
    )
    assert [(s["interviewer_name"], s["raw"], s["dissent"]) for s in split["scores"]] == [
        ("Ben", 2, True),
        ("Cy", 4, False),
    ]
    assert split["anchor"] == "disagreement-system_design"


def test_raters_in_line_make_no_disagreement():
    assert build_packet(with_deep_dive(score=2), False)["disagreements"] == []


def test_without_a_fit_the_statement_says_calibration_is_not_applied():
    calibration = build_packet(inputs(calibration=None), False)["calibration"]
    assert calibration["applied"] is False
    assert {i["state"] for i in calibration["interviewers"]} == {"no_fit"}
    assert calibration["statement"] == (
        "Calibration is not applied: no calibration has been fitted yet (there is too "
        "little rating history across interviewers). Every calibrated score equals the raw "
        "score."
    )


def test_the_statement_names_interviewers_the_fit_does_not_cover():
    calibration = build_packet(inputs(), False)["calibration"]
    states = {i["name"]: i["state"] for i in calibration["interviewers"]}
    assert states == {"Ben": "not_in_fit", "Ana": "applied"}
    assert calibration["applied"] is True
    assert calibration["statement"] == (
        "Calibration is not applied to Ben: the last calibration fit predates their ratings. "
        "Their calibrated scores equal the raw scores."
    )


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("insufficient_data", "share no candidate with the other interviewers"),
        ("not_comparable", "not comparable with the main pool"),
    ],
)
def test_an_interviewer_the_fit_could_not_compare_is_not_corrected(state, reason):
    isolated = LeniencyIn(12, None, None, 3, False, "Shown raw.", state=state)
    leniencies = {**inputs().leniencies, 12: isolated}
    view = build_packet(inputs(leniencies=leniencies), False)
    (group,) = view["calibration"]["not_applied"]
    assert (group["state"], group["names"]) == (state, ["Ben"])
    assert reason in view["calibration"]["statement"]
    ben = next(i for i in view["interviews"] if i["interviewer_name"] == "Ben")
    assert ben["calibration_state"] == state


def test_an_amendment_lists_what_changed():
    base = inputs()
    design = base.histories[2]
    first = replace(
        design.revisions[0],
        ratings=(
            RatingIn("system_design", 1, "Drew a queue."),
            RatingIn("operational_excellence", None, ""),
        ),
    )
    second = replace(
        design.revisions[1],
        recommendation="no",
        ratings=(
            RatingIn("system_design", 2, "Drew a queue."),
            RatingIn("operational_excellence", 3, "Named two alerts."),
        ),
    )
    revised = replace(design, revisions=(first, second))
    view = build_packet(replace(base, histories={**base.histories, 2: revised}), False)
    original, amended = view["interviews"][0]["revisions"]
    assert original["changes"] is None
    assert amended["recommendation_from"] == "yes"
    assert [
        (c["competency"], c["score_from"], c["score_to"], c["evidence"]) for c in amended["changes"]
    ] == [
        ("system_design", 1, 2, None),
        ("operational_excellence", None, 3, "added"),
    ]


def test_removed_evidence_is_quoted_and_redacted_when_anonymized():
    base = inputs()
    design = base.histories[2]
    first = replace(design.revisions[0], ratings=(RatingIn("system_design", 2, "Grace drew it."),))
    second = replace(design.revisions[1], ratings=(RatingIn("system_design", None, ""),))
    revised = replace(design, revisions=(first, second))
    view = build_packet(replace(base, histories={**base.histories, 2: revised}), True)
    (change,) = view["interviews"][0]["revisions"][1]["changes"]
    assert (change["evidence"], change["evidence_before"]) == ("removed", "[candidate] drew it.")


def test_stays_carry_a_duration_a_person_reads():
    applied, onsite = build_packet(inputs(), False)["stages"]
    assert (applied["duration"], onsite["duration"]) == ("8.0 days", None)
