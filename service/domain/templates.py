"""Interview templates: the one process every candidate of a role goes through.

A template is plain, immutable data. It is parsed and validated from YAML by
`service.domain.template_loading`; its version is the hash of its canonical
content, so the same content always has the same version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

RECOMMENDATIONS = ("strong_no", "no", "yes", "strong_yes")
SCORE_LEVELS = (1, 2, 3, 4)
MAX_INTERVIEW_MINUTES = 240


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    sla_days: int
    next: tuple[str, ...] = ()


@dataclass(frozen=True)
class RubricLevel:
    level: int
    label: str
    anchor: str


@dataclass(frozen=True)
class Competency:
    key: str
    name: str
    description: str
    rubric: tuple[RubricLevel, ...]

    def anchor(self, level: int) -> str:
        return next(r.anchor for r in self.rubric if r.level == level)


@dataclass(frozen=True)
class Question:
    text: str
    follow_ups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Interview:
    key: str
    title: str
    stage: str
    duration_minutes: int
    competencies: tuple[str, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Scoring:
    min_evidence_chars: int
    late_feedback_hours: int
    dissent_threshold: float
    bars: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reminders:
    """When an owed scorecard's interviewer is reminded: `first_after_hours` after the
    interview ends, then every `every_hours`, at most `max_reminders` times."""

    first_after_hours: int = 4
    every_hours: int = 24
    max_reminders: int = 3


DEFAULT_REMINDERS = Reminders()


@dataclass(frozen=True)
class InterviewTemplate:
    key: str
    title: str
    description: str
    stages: tuple[Stage, ...]
    competencies: tuple[Competency, ...]
    interviews: tuple[Interview, ...]
    scoring: Scoring
    recommendation_scale: tuple[str, ...] = RECOMMENDATIONS
    # Days after a candidate's last application for this role ended before their data
    # is erased; None: the global RETENTION_DAYS.
    retention_days: int | None = None
    # Optional in the YAML; without it the defaults apply (`reminder_settings`).
    reminders: Reminders | None = None

    @property
    def reminder_settings(self) -> Reminders:
        return self.reminders or DEFAULT_REMINDERS

    @property
    def first_stage(self) -> Stage:
        return self.stages[0]

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)

    def competency(self, key: str) -> Competency | None:
        return next((c for c in self.competencies if c.key == key), None)

    def interview(self, key: str) -> Interview | None:
        return next((i for i in self.interviews if i.key == key), None)

    def allowed_moves(self, from_stage: str) -> tuple[str, ...]:
        stage = self.stage(from_stage)
        return stage.next if stage else ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; `from_dict(to_dict())` gives an equal template.

        An absent optional setting (`reminders`, `retention_days`) is left out, so
        templates written before it existed keep their version."""
        data = asdict(self)
        for optional in ("reminders", "retention_days"):
            if data[optional] is None:
                del data[optional]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InterviewTemplate:
        return cls(
            key=data["key"],
            title=data["title"],
            description=data["description"],
            stages=tuple(
                Stage(s["key"], s["name"], s["sla_days"], tuple(s["next"])) for s in data["stages"]
            ),
            competencies=tuple(
                Competency(
                    c["key"],
                    c["name"],
                    c["description"],
                    tuple(RubricLevel(**r) for r in c["rubric"]),
                )
                for c in data["competencies"]
            ),
            interviews=tuple(
                Interview(
                    key=i["key"],
                    title=i["title"],
                    stage=i["stage"],
                    duration_minutes=i["duration_minutes"],
                    competencies=tuple(i["competencies"]),
                    questions=tuple(
                        Question(q["text"], tuple(q["follow_ups"])) for q in i["questions"]
                    ),
                )
                for i in data["interviews"]
            ),
            scoring=Scoring(**data["scoring"]),
            recommendation_scale=tuple(data["recommendation_scale"]),
            retention_days=data.get("retention_days"),
            reminders=Reminders(**data["reminders"]) if data.get("reminders") else None,
        )

    @property
    def version(self) -> str:
        """Content hash: sha256 of the canonical JSON of the template."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
