"""Interview templates: the shipped files load; each rule gives a precise message."""

import json

import pytest
import yaml

from service.domain.template_loading import (
    TEMPLATE_DIR,
    TemplateInvalidError,
    load_template_dir,
    load_template_file,
    parse_template,
)
from service.domain.templates import DEFAULT_REMINDERS, InterviewTemplate, Reminders

SOURCE = "minimal.yaml"
SHIPPED = ["backend_engineer", "engineering_manager", "product_designer"]


def competency(key: str) -> dict:
    labels = ("Poor", "Mixed", "Good", "Excellent")
    return {
        "key": key,
        "name": key.capitalize(),
        "description": f"How well the candidate does {key}.",
        "rubric": [
            {"level": level, "label": label, "anchor": f"Observable behaviour {level}."}
            for level, label in enumerate(labels, start=1)
        ],
    }


@pytest.fixture
def template() -> dict:
    """The smallest valid template; each test breaks one thing in it."""
    return {
        "key": "minimal",
        "title": "Minimal role",
        "description": "The smallest template that passes every rule.",
        "stages": [
            {"key": "applied", "name": "Applied", "sla_days": 3, "next": ["screen"]},
            {"key": "screen", "name": "Screen", "sla_days": 5, "next": ["offer"]},
            {"key": "offer", "name": "Offer", "sla_days": 7, "next": []},
        ],
        "competencies": [competency("coding"), competency("design")],
        "interviews": [
            {
                "key": "screen_call",
                "title": "Screen call",
                "stage": "screen",
                "duration_minutes": 45,
                "competencies": ["coding", "design"],
                "questions": [{"text": "Build a queue.", "follow_ups": ["When full?"]}],
            }
        ],
        "scoring": {
            "min_evidence_chars": 40,
            "late_feedback_hours": 24,
            "dissent_threshold": 1.5,
            "bars": {"coding": 3, "design": 3},
        },
        "recommendation_scale": ["strong_no", "no", "yes", "strong_yes"],
    }


def problems(data: object) -> list[str]:
    with pytest.raises(TemplateInvalidError) as caught:
        parse_template(data, SOURCE)
    return caught.value.messages


# -- the shipped templates ----------------------------------------------------


def test_shipped_templates_all_load_with_distinct_keys():
    templates = load_template_dir(TEMPLATE_DIR)
    assert [t.key for t in templates] == SHIPPED


@pytest.mark.parametrize("key", SHIPPED)
def test_shipped_template_version_is_stable_across_loads(key):
    path = TEMPLATE_DIR / f"{key}.yaml"
    assert load_template_file(path).version == load_template_file(path).version


@pytest.mark.parametrize("key", SHIPPED)
def test_shipped_template_round_trips_through_json(key):
    original = load_template_file(TEMPLATE_DIR / f"{key}.yaml")
    copy = InterviewTemplate.from_dict(json.loads(json.dumps(original.to_dict())))
    assert copy == original
    assert copy.version == original.version


@pytest.mark.parametrize("key", SHIPPED)
def test_shipped_template_assesses_every_competency_twice(key):
    """Two raters per competency is what makes dissent visible at all."""
    template = load_template_file(TEMPLATE_DIR / f"{key}.yaml")
    for competency_ in template.competencies:
        raters = [i for i in template.interviews if competency_.key in i.competencies]
        assert len(raters) >= 2, competency_.key


def test_minimal_template_is_valid(template):
    assert parse_template(template, SOURCE).key == "minimal"


def test_version_changes_when_content_changes(template):
    before = parse_template(template, SOURCE).version
    template["stages"][0]["sla_days"] = 4
    assert parse_template(template, SOURCE).version != before


def test_error_str_puts_one_message_per_line():
    error = TemplateInvalidError(["a.yaml: one", "a.yaml: two"])
    assert str(error) == "a.yaml: one\na.yaml: two"


# -- YAML files ---------------------------------------------------------------


def test_yes_and_no_in_yaml_are_strings_not_booleans(tmp_path, template):
    del template["recommendation_scale"]
    path = tmp_path / SOURCE
    scale = "recommendation_scale: [strong_no, no, yes, strong_yes]\n"
    path.write_text(yaml.safe_dump(template) + scale)
    assert load_template_file(path).recommendation_scale == ("strong_no", "no", "yes", "strong_yes")


def test_malformed_yaml_is_reported_with_its_line(tmp_path):
    path = tmp_path / SOURCE
    path.write_text("key: minimal\ntitle: [unclosed\n")
    with pytest.raises(TemplateInvalidError) as caught:
        load_template_file(path)
    assert caught.value.messages == [
        "minimal.yaml: line 3, column 1: expected ',' or ']', but got '<stream end>'"
    ]


def test_duplicate_yaml_key_is_rejected(tmp_path):
    path = tmp_path / SOURCE
    path.write_text("key: minimal\ntitle: One\ntitle: Two\n")
    with pytest.raises(TemplateInvalidError) as caught:
        load_template_file(path)
    assert caught.value.messages == ["minimal.yaml: line 3, column 1: duplicate key 'title'"]


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / SOURCE
    path.write_text("# nothing yet\n")
    with pytest.raises(TemplateInvalidError) as caught:
        load_template_file(path)
    assert caught.value.messages == ["minimal.yaml: the template is empty"]


def test_dir_reports_errors_of_every_file(tmp_path):
    (tmp_path / "a.yaml").write_text("- not a mapping\n")
    (tmp_path / "b.yaml").write_text("key: [unclosed\n")
    with pytest.raises(TemplateInvalidError) as caught:
        load_template_dir(tmp_path)
    assert caught.value.messages == [
        "a.yaml: expected a mapping",
        "b.yaml: line 2, column 1: expected ',' or ']', but got '<stream end>'",
    ]


def test_dir_rejects_two_files_with_the_same_template_key(tmp_path, template):
    (tmp_path / "a.yaml").write_text(json.dumps(template))
    (tmp_path / "b.yaml").write_text(json.dumps(template))
    with pytest.raises(TemplateInvalidError) as caught:
        load_template_dir(tmp_path)
    assert caught.value.messages == [
        "b.yaml: key: template key 'minimal' is already used by a.yaml"
    ]


# -- shape and types ----------------------------------------------------------


def test_template_that_is_not_a_mapping_is_rejected():
    assert problems(["key", "title"]) == ["minimal.yaml: expected a mapping"]


def test_section_that_is_not_a_mapping_is_rejected(template):
    template["stages"][1] = "screen"
    assert problems(template) == ["minimal.yaml: stages[1]: expected a mapping"]


def test_unknown_top_level_field_is_rejected(template):
    template["colour"] = "blue"
    assert problems(template) == ["minimal.yaml: colour: unknown field"]


def test_unknown_nested_field_is_rejected(template):
    template["interviews"][0]["questions"][0]["hint"] = "use two stacks"
    assert problems(template) == ["minimal.yaml: interviews[0].questions[0].hint: unknown field"]


def test_missing_field_is_rejected(template):
    del template["title"]
    assert problems(template) == ["minimal.yaml: title: missing data for required field"]


def test_string_for_a_number_is_rejected(template):
    template["stages"][0]["sla_days"] = "3"
    assert problems(template) == ["minimal.yaml: stages[0].sla_days: not a valid integer"]


def test_string_for_dissent_threshold_is_rejected(template):
    template["scoring"]["dissent_threshold"] = "1.5"
    assert problems(template) == ["minimal.yaml: scoring.dissent_threshold: not a valid number"]


def test_key_that_is_not_snake_case_is_rejected(template):
    template["key"] = "Backend Engineer"
    assert problems(template) == [
        "minimal.yaml: key: 'Backend Engineer' is not a snake_case identifier"
    ]


def test_blank_title_is_rejected(template):
    template["title"] = "  "
    assert problems(template) == ["minimal.yaml: title: must not be empty"]


def test_wrong_recommendation_scale_is_rejected(template):
    template["recommendation_scale"] = ["no", "yes"]
    assert problems(template) == [
        "minimal.yaml: recommendation_scale: must be exactly [strong_no, no, yes, strong_yes]"
    ]


# -- ranges -------------------------------------------------------------------


def test_sla_days_out_of_range_is_rejected(template):
    template["stages"][1]["sla_days"] = 90
    assert problems(template) == ["minimal.yaml: stages[1].sla_days: must be from 1 to 60, got 90"]


def test_duration_out_of_range_is_rejected(template):
    template["interviews"][0]["duration_minutes"] = 480
    assert problems(template) == [
        "minimal.yaml: interviews[0].duration_minutes: must be from 15 to 240, got 480"
    ]


def test_min_evidence_chars_out_of_range_is_rejected(template):
    template["scoring"]["min_evidence_chars"] = 5
    assert problems(template) == [
        "minimal.yaml: scoring.min_evidence_chars: must be from 20 to 500, got 5"
    ]


def test_late_feedback_hours_out_of_range_is_rejected(template):
    template["scoring"]["late_feedback_hours"] = 0
    assert problems(template) == [
        "minimal.yaml: scoring.late_feedback_hours: must be from 1 to 168, got 0"
    ]


def test_dissent_threshold_out_of_range_is_rejected(template):
    template["scoring"]["dissent_threshold"] = 4
    assert problems(template) == [
        "minimal.yaml: scoring.dissent_threshold: must be from 0.5 to 3.0, got 4.0"
    ]


# -- stages -------------------------------------------------------------------


def test_fewer_than_two_stages_is_rejected(template):
    template["stages"] = template["stages"][-1:]
    template["interviews"][0]["stage"] = "offer"
    assert problems(template) == [
        "minimal.yaml: stages: needs at least 2 stages: where applications start "
        "and where a hire is made"
    ]


def test_duplicate_stage_key_is_rejected(template):
    template["stages"].insert(2, dict(template["stages"][1]))
    assert problems(template) == ["minimal.yaml: stages[2].key: duplicate stage key 'screen'"]


def test_next_to_unknown_stage_is_rejected(template):
    template["stages"][1]["next"] = ["offer", "offr"]
    assert problems(template) == ["minimal.yaml: stages[1].next[1]: unknown stage 'offr'"]


def test_next_to_itself_is_rejected(template):
    template["stages"][1]["next"] = ["screen", "offer"]
    assert problems(template) == [
        "minimal.yaml: stages[1].next[0]: stage 'screen' cannot move to itself"
    ]


def test_next_listing_a_stage_twice_is_rejected(template):
    template["stages"][1]["next"] = ["offer", "offer"]
    assert problems(template) == ["minimal.yaml: stages[1].next[1]: duplicate stage 'offer'"]


def test_non_final_stage_without_next_is_rejected(template):
    template["stages"][0]["next"] = ["screen", "offer"]
    del template["stages"][1]["next"]
    assert problems(template) == [
        "minimal.yaml: stages[1].next: stage 'screen' has no next stage; only the last stage may"
    ]


def test_unreachable_stage_is_rejected(template):
    onsite = {"key": "onsite", "name": "Onsite", "sla_days": 7, "next": ["offer"]}
    template["stages"].insert(2, onsite)
    assert problems(template) == [
        "minimal.yaml: stages[2]: stage 'onsite' cannot be reached from 'applied'"
    ]


# -- competencies and rubrics -------------------------------------------------


def test_duplicate_competency_key_is_rejected(template):
    template["competencies"].append(competency("coding"))
    assert problems(template) == [
        "minimal.yaml: competencies[2].key: duplicate competency key 'coding'"
    ]


def test_empty_anchor_is_rejected(template):
    template["competencies"][0]["rubric"][1]["anchor"] = ""
    assert problems(template) == [
        "minimal.yaml: competencies[0].rubric[1].anchor: must not be empty"
    ]


def test_missing_anchor_is_rejected(template):
    del template["competencies"][0]["rubric"][1]["anchor"]
    assert problems(template) == [
        "minimal.yaml: competencies[0].rubric[1].anchor: missing data for required field"
    ]


def test_rubric_level_outside_1_to_4_is_rejected(template):
    template["competencies"][0]["rubric"][3]["level"] = 5
    assert problems(template) == [
        "minimal.yaml: competencies[0].rubric[3].level: must be from 1 to 4, got 5"
    ]


def test_duplicate_rubric_level_is_rejected(template):
    template["competencies"][0]["rubric"][3]["level"] = 3
    assert problems(template) == [
        "minimal.yaml: competencies[0].rubric[3].level: duplicate level 3"
    ]


def test_rubric_missing_a_level_is_rejected(template):
    del template["competencies"][1]["rubric"][3]
    assert problems(template) == [
        "minimal.yaml: competencies[1].rubric: must list levels 1, 2, 3, 4 in order, got 1, 2, 3"
    ]


def test_competency_no_interview_assesses_is_rejected(template):
    template["interviews"][0]["competencies"] = ["coding"]
    assert problems(template) == [
        "minimal.yaml: competencies[1]: competency 'design' is not assessed by any interview"
    ]


# -- interviews ---------------------------------------------------------------


def test_duplicate_interview_key_is_rejected(template):
    template["interviews"].append(dict(template["interviews"][0]))
    assert problems(template) == [
        "minimal.yaml: interviews[1].key: duplicate interview key 'screen_call'"
    ]


def test_interview_in_unknown_stage_is_rejected(template):
    template["interviews"][0]["stage"] = "onsit"
    assert problems(template) == ["minimal.yaml: interviews[0].stage: unknown stage 'onsit'"]


def test_interview_with_unknown_competency_is_rejected(template):
    template["interviews"][0]["competencies"] = ["coding", "design", "sytem_design"]
    assert problems(template) == [
        "minimal.yaml: interviews[0].competencies[2]: unknown competency 'sytem_design'"
    ]


def test_interview_listing_a_competency_twice_is_rejected(template):
    template["interviews"][0]["competencies"] = ["coding", "design", "coding"]
    assert problems(template) == [
        "minimal.yaml: interviews[0].competencies[2]: duplicate competency 'coding'"
    ]


def test_interview_without_questions_is_rejected(template):
    template["interviews"][0]["questions"] = []
    assert problems(template) == ["minimal.yaml: interviews[0].questions: must not be empty"]


# -- bars ---------------------------------------------------------------------


def test_competency_without_a_bar_is_rejected(template):
    del template["scoring"]["bars"]["design"]
    assert problems(template) == ["minimal.yaml: scoring.bars: missing bar for competency 'design'"]


def test_bar_for_unknown_competency_is_rejected(template):
    template["scoring"]["bars"]["sytem_design"] = 3
    assert problems(template) == [
        "minimal.yaml: scoring.bars.sytem_design: unknown competency 'sytem_design'"
    ]


def test_bar_outside_1_to_4_is_rejected(template):
    template["scoring"]["bars"]["coding"] = 5
    assert problems(template) == [
        "minimal.yaml: scoring.bars.coding: must be a whole number from 1 to 4, got 5"
    ]


def test_bar_that_is_a_string_is_rejected(template):
    template["scoring"]["bars"]["coding"] = "3"
    assert problems(template) == [
        "minimal.yaml: scoring.bars.coding: must be a whole number from 1 to 4, got '3'"
    ]


def test_retention_days_is_optional_and_checked(template):
    assert parse_template(template, SOURCE).retention_days is None
    unset_version = parse_template(template, SOURCE).version
    template["retention_days"] = 180
    parsed = parse_template(template, SOURCE)
    assert parsed.retention_days == 180
    assert InterviewTemplate.from_dict(parsed.to_dict()) == parsed
    assert parsed.version != unset_version
    template["retention_days"] = 7
    assert problems(template) == ["minimal.yaml: retention_days: must be from 30 to 3650, got 7"]


def test_a_template_without_retention_days_keeps_its_version(template):
    """Adding the optional setting to the code must not give every stored template a new
    version: an unset one is left out of the content the version hashes."""
    assert "retention_days" not in parse_template(template, SOURCE).to_dict()


# -- reminders ----------------------------------------------------------------


def test_without_a_reminders_section_the_defaults_apply_and_the_version_is_unchanged(template):
    loaded = parse_template(template, SOURCE)
    assert loaded.reminders is None and loaded.reminder_settings == DEFAULT_REMINDERS
    assert "reminders" not in loaded.to_dict()


def test_a_reminders_section_is_read_and_round_trips(template):
    template["reminders"] = {"first_after_hours": 2, "every_hours": 12, "max_reminders": 4}
    loaded = parse_template(template, SOURCE)
    assert loaded.reminder_settings == Reminders(2, 12, 4)
    assert InterviewTemplate.from_dict(json.loads(json.dumps(loaded.to_dict()))) == loaded


@pytest.mark.parametrize(
    ("field", "value"), [("first_after_hours", 0), ("every_hours", 500), ("max_reminders", 11)]
)
def test_reminder_settings_out_of_range_name_the_path(template, field, value):
    template["reminders"] = {"first_after_hours": 2, "every_hours": 12, "max_reminders": 4}
    template["reminders"][field] = value
    (message,) = problems(template)
    assert f"reminders.{field}" in message and "must be from" in message
