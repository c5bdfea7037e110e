"""Rules that look across a whole interview template.

The schemas in `template_loading` check each field on its own; these checks
catch what only shows when the parts are put together: a misspelt stage or
competency key, a stage no candidate can ever reach, a competency nobody
interviews for (the panel could never score it, so it would always show as a
coverage gap). Each problem is returned as `path: message`, the path written
the way it appears in the YAML file (`interviews[2].competencies[1]`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from service.domain.templates import (
    SCORE_LEVELS,
    Competency,
    Interview,
    InterviewTemplate,
    RubricLevel,
    Stage,
)


def check_template(template: InterviewTemplate) -> list[str]:
    """Every cross-reference problem in a structurally valid template, in file order."""
    return [
        *_check_stages(template),
        *_check_competencies(template),
        *_check_interviews(template),
        *_check_bars(template),
    ]


def _duplicate_keys(
    items: Sequence[Stage | Competency | Interview], path: str, kind: str
) -> Iterator[str]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.key in seen:
            yield f"{path}[{index}].key: duplicate {kind} key '{item.key}'"
        seen.add(item.key)


def _check_stages(template: InterviewTemplate) -> Iterator[str]:
    yield from _duplicate_keys(template.stages, "stages", "stage")
    stage_keys = {stage.key for stage in template.stages}
    last = len(template.stages) - 1
    for index, stage in enumerate(template.stages):
        path = f"stages[{index}].next"
        if not stage.next and index != last:
            yield (f"{path}: stage '{stage.key}' has no next stage; only the last stage may")
        seen: set[str] = set()
        for position, target in enumerate(stage.next):
            if target == stage.key:
                yield f"{path}[{position}]: stage '{target}' cannot move to itself"
            elif target not in stage_keys:
                yield f"{path}[{position}]: unknown stage '{target}'"
            elif target in seen:
                yield f"{path}[{position}]: duplicate stage '{target}'"
            seen.add(target)
    yield from _check_reachable(template)


def _check_reachable(template: InterviewTemplate) -> Iterator[str]:
    """Every stage must be reachable, or candidates could never get there."""
    first = template.first_stage.key
    reached = {first}
    waiting = [first]
    while waiting:
        for target in template.allowed_moves(waiting.pop()):
            if target not in reached:
                reached.add(target)
                waiting.append(target)
    for index, stage in enumerate(template.stages):
        if stage.key not in reached:
            yield (f"stages[{index}]: stage '{stage.key}' cannot be reached from '{first}'")


def _check_competencies(template: InterviewTemplate) -> Iterator[str]:
    yield from _duplicate_keys(template.competencies, "competencies", "competency")
    assessed = {key for i in template.interviews for key in i.competencies}
    for index, competency in enumerate(template.competencies):
        path, key = f"competencies[{index}]", competency.key
        yield from _check_rubric(competency.rubric, f"{path}.rubric")
        if key not in assessed:
            yield f"{path}: competency '{key}' is not assessed by any interview"


def _check_rubric(rubric: Sequence[RubricLevel], path: str) -> Iterator[str]:
    """Exactly levels 1..4, in order, so every score has one anchor to point at."""
    levels = [level.level for level in rubric]
    seen: set[int] = set()
    for index, level in enumerate(levels):
        if level in seen:
            yield f"{path}[{index}].level: duplicate level {level}"
        seen.add(level)
    if len(seen) == len(levels) and tuple(levels) != SCORE_LEVELS:
        expected = ", ".join(map(str, SCORE_LEVELS))
        got = ", ".join(map(str, levels))
        yield f"{path}: must list levels {expected} in order, got {got}"


def _check_interviews(template: InterviewTemplate) -> Iterator[str]:
    yield from _duplicate_keys(template.interviews, "interviews", "interview")
    for index, interview in enumerate(template.interviews):
        path = f"interviews[{index}]"
        if template.stage(interview.stage) is None:
            yield f"{path}.stage: unknown stage '{interview.stage}'"
        seen: set[str] = set()
        for position, key in enumerate(interview.competencies):
            if template.competency(key) is None:
                yield f"{path}.competencies[{position}]: unknown competency '{key}'"
            elif key in seen:
                yield f"{path}.competencies[{position}]: duplicate competency '{key}'"
            seen.add(key)


def _check_bars(template: InterviewTemplate) -> Iterator[str]:
    """Every competency needs a bar, or the packet cannot say whether it is cleared."""
    bars = template.scoring.bars
    for key, bar in bars.items():
        path = f"scoring.bars.{key}"
        if template.competency(key) is None:
            yield f"{path}: unknown competency '{key}'"
        # `type(...) is int` because YAML `true` is a bool, and bools are ints.
        elif type(bar) is not int or bar not in SCORE_LEVELS:
            yield f"{path}: must be a whole number from 1 to 4, got {bar!r}"
    for competency in template.competencies:
        if competency.key not in bars:
            yield f"scoring.bars: missing bar for competency '{competency.key}'"
