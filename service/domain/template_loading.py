"""Read interview templates from YAML, validate them, and build `InterviewTemplate`s.

Templates are data that admins edit by hand, so every mistake must come back as
a message a person can act on: the file, the path inside it and what is wrong
(`backend_engineer.yaml: stages[3].next[0]: unknown stage 'offr'`) — never a
traceback. The marshmallow schemas here check shape and types; the rules that
look across the template (references, reachability, coverage) live in
`service.domain.template_checks`.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from service.domain.messages import flatten_messages
from service.domain.template_checks import check_template
from service.domain.templates import (
    MAX_INTERVIEW_MINUTES,
    RECOMMENDATIONS,
    Competency,
    Interview,
    InterviewTemplate,
    Question,
    Reminders,
    RubricLevel,
    Scoring,
    Stage,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "interview_templates"

SNAKE_CASE = r"^[a-z][a-z0-9_]*$"
RANGE_ERROR = "must be from {min} to {max}, got {input}"


class TemplateInvalidError(Exception):
    """One or more templates are invalid; `messages` holds one line per problem."""

    def __init__(self, messages: list[str]):
        super().__init__(messages)
        self.messages = messages

    def __str__(self) -> str:
        return "\n".join(self.messages)


# -- fields -------------------------------------------------------------------


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be empty")


def _key(**kwargs: Any) -> fields.String:
    """A snake_case identifier; keys end up in URLs, database rows and reports."""
    error = "'{input}' is not a snake_case identifier"
    return fields.String(validate=validate.Regexp(SNAKE_CASE, error=error), **kwargs)


def _text() -> fields.String:
    return fields.String(required=True, validate=_not_blank)


def _whole_number(low: int, high: int) -> fields.Integer:
    # strict: `sla_days: "3"` is a typo to report, not a number to coerce.
    in_range = validate.Range(low, high, error=RANGE_ERROR)
    return fields.Integer(required=True, strict=True, validate=in_range)


def _non_empty_list(item: fields.Field[Any], **kwargs: Any) -> fields.List[Any]:
    return fields.List(item, validate=validate.Length(min=1, error="must not be empty"), **kwargs)


class _StrictFloat(fields.Float):
    """A float that refuses strings: marshmallow's Float would accept `"1.5"`."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


# -- schemas ------------------------------------------------------------------


class _Section(Schema):
    """Base for every part of a template: unknown fields are errors, not ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"type": "expected a mapping", "unknown": "unknown field"}


class StageSchema(_Section):
    key = _key(required=True)
    name = _text()
    sla_days = _whole_number(1, 60)
    next = fields.List(_key(), load_default=())

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Stage:
        return Stage(data["key"], data["name"], data["sla_days"], tuple(data["next"]))


class RubricLevelSchema(_Section):
    level = _whole_number(1, 4)
    label = _text()
    anchor = _text()

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> RubricLevel:
        return RubricLevel(**data)


class CompetencySchema(_Section):
    key = _key(required=True)
    name = _text()
    description = _text()
    rubric = _non_empty_list(fields.Nested(RubricLevelSchema), required=True)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Competency:
        return Competency(data["key"], data["name"], data["description"], tuple(data["rubric"]))


class QuestionSchema(_Section):
    text = _text()
    follow_ups = fields.List(fields.String(validate=_not_blank), load_default=())

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Question:
        return Question(data["text"], tuple(data["follow_ups"]))


class InterviewSchema(_Section):
    key = _key(required=True)
    title = _text()
    stage = _key(required=True)
    duration_minutes = _whole_number(15, MAX_INTERVIEW_MINUTES)
    competencies = _non_empty_list(_key(), required=True)
    questions = _non_empty_list(fields.Nested(QuestionSchema), required=True)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Interview:
        return Interview(
            key=data["key"],
            title=data["title"],
            stage=data["stage"],
            duration_minutes=data["duration_minutes"],
            competencies=tuple(data["competencies"]),
            questions=tuple(data["questions"]),
        )


class ScoringSchema(_Section):
    min_evidence_chars = _whole_number(20, 500)
    late_feedback_hours = _whole_number(1, 168)
    # Scores run 1..4, so a gap of more than 3 can never happen.
    dissent_threshold = _StrictFloat(
        required=True,
        validate=validate.Range(0.5, 3.0, error=RANGE_ERROR),
    )
    # Keys and values are checked against the competencies in template_checks.
    bars = fields.Dict(required=True)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Scoring:
        return Scoring(**data)


class RemindersSchema(_Section):
    first_after_hours = _whole_number(1, 168)
    every_hours = _whole_number(1, 168)
    max_reminders = _whole_number(0, 10)

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> Reminders:
        return Reminders(**data)


class InterviewTemplateSchema(_Section):
    key = _key(required=True)
    title = _text()
    description = _text()
    stages = fields.List(
        fields.Nested(StageSchema),
        required=True,
        validate=validate.Length(
            min=2,
            error="needs at least 2 stages: where applications start and where a hire is made",
        ),
    )
    competencies = _non_empty_list(fields.Nested(CompetencySchema), required=True)
    interviews = _non_empty_list(fields.Nested(InterviewSchema), required=True)
    scoring = fields.Nested(ScoringSchema, required=True)
    retention_days = fields.Integer(
        load_default=None, strict=True, validate=validate.Range(30, 3650, error=RANGE_ERROR)
    )
    # Optional: scorecard reminders (`domain.templates.DEFAULT_REMINDERS` without it).
    reminders = fields.Nested(RemindersSchema, load_default=None)
    recommendation_scale = fields.List(
        fields.String(),
        required=True,
        validate=validate.Equal(
            list(RECOMMENDATIONS),
            error=f"must be exactly [{', '.join(RECOMMENDATIONS)}]",
        ),
    )

    @post_load
    def build(self, data: dict[str, Any], **kwargs: Any) -> InterviewTemplate:
        return InterviewTemplate(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            stages=tuple(data["stages"]),
            competencies=tuple(data["competencies"]),
            interviews=tuple(data["interviews"]),
            scoring=data["scoring"],
            recommendation_scale=tuple(data["recommendation_scale"]),
            retention_days=data["retention_days"],
            reminders=data["reminders"],
        )


# -- loading ------------------------------------------------------------------


def parse_template(data: object, source: str) -> InterviewTemplate:
    """Validate already-parsed YAML data and build the template.

    Shape and type errors come first; the cross-checks need a well-formed
    template, so they run only once there are none. Raises TemplateInvalidError
    listing every problem, each prefixed by `source`.
    """
    if data is None:
        raise TemplateInvalidError([f"{source}: the template is empty"])
    try:
        # Any parsed YAML is accepted here: the schema reports a non-mapping as an error.
        template: InterviewTemplate = InterviewTemplateSchema().load(data)  # type: ignore[arg-type]
    except ValidationError as error:
        raise TemplateInvalidError(
            [
                _message(source, path, text)
                for path, text in flatten_messages(error.messages, schema_key_is_parent=True)
            ]
        ) from None
    problems = check_template(template)
    if problems:
        raise TemplateInvalidError([f"{source}: {problem}" for problem in problems])
    return template


def load_template_file(path: str | Path) -> InterviewTemplate:
    """Read and validate one template file. Raises TemplateInvalidError."""
    path = Path(path)
    try:
        data = yaml.load(path.read_bytes(), Loader=_TemplateLoader)
    except yaml.YAMLError as error:
        raise TemplateInvalidError([_yaml_message(path.name, error)]) from None
    return parse_template(data, path.name)


def load_template_dir(path: str | Path = TEMPLATE_DIR) -> list[InterviewTemplate]:
    """Load every `*.yaml` template in a folder, sorted by file name.

    Reports the problems of all files at once, so one broken file does not hide
    the next; two files may not share a template key. Raises TemplateInvalidError.
    """
    templates: list[InterviewTemplate] = []
    messages: list[str] = []
    file_of_key: dict[str, str] = {}
    for file in sorted(Path(path).glob("*.yaml")):
        try:
            template = load_template_file(file)
        except TemplateInvalidError as error:
            messages.extend(error.messages)
            continue
        if template.key in file_of_key:
            messages.append(
                f"{file.name}: key: template key '{template.key}' is already used by "
                f"{file_of_key[template.key]}"
            )
            continue
        file_of_key[template.key] = file.name
        templates.append(template)
    if messages:
        raise TemplateInvalidError(messages)
    return templates


# -- messages -----------------------------------------------------------------


def _message(source: str, path: str, text: str) -> str:
    # marshmallow writes sentences ("Not a valid integer."); ours are fragments.
    text = text[:1].lower() + text[1:].rstrip(".")
    return f"{source}: {path}: {text}" if path else f"{source}: {text}"


def _yaml_message(source: str, error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):  # bad encoding or control character
        return f"{source}: position {error.position}: unreadable text ({error.reason})"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is None or problem is None:
        return f"{source}: not valid YAML: {str(error).splitlines()[0]}"
    return f"{source}: line {mark.line + 1}, column {mark.column + 1}: {problem}"


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader with two traps of hand-written YAML removed.

    Duplicate keys are errors: PyYAML would let a second `bars:` silently
    replace the first. And only true/false are booleans, as in YAML 1.2: under
    YAML 1.1 rules `recommendation_scale: [strong_no, no, yes, strong_yes]`
    would load `no` and `yes` as False and True.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader itself reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_TemplateLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
