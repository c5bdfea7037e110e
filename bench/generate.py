"""Fill a database with a realistic hiring organisation, for benchmarks.

    python -m bench.generate --database-url URL --applications 100000 --seed 1

Migrates the database (`hiring db upgrade`), stores the shipped interview
templates (`hiring templates sync`), then bulk-loads: an admin, recruiters,
hiring managers and hundreds of interviewers in teams of about 50, each with an
API token; requisitions over the three templates; candidates; applications
that move through their template's stages with realistic drop-off (a latent
candidate level drives who passes each step), with their timeline; screens
and onsite loops; submitted scorecards whose scores are latent level +
competency effect + interviewer leniency + noise, rounded to 1–4 — some late,
some amended (a few after reading the panel), some still drafts or missing;
and finally a stored calibration fit, as the refresh job would leave it.

Rows are inserted with SQLAlchemy Core `insert()` in executemany batches, and
with COPY on PostgreSQL. Ids are assigned here, so children never wait for a
RETURNING. Everything is deterministic for a seed and a `now`, except the token
values (random: they are credentials). The plain tokens go to a JSON file for
the load test; the database keeps only their hashes. When the
self-identification table exists, 60 % of applications get answers, drawn
independently of the latent level (no built-in adverse impact).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text
from sqlalchemy.orm import Session

from service.domain.pipeline import joined_stages
from service.domain.self_identification import DECLINED, QUESTIONS
from service.domain.template_loading import TEMPLATE_DIR, load_template_dir
from service.domain.templates import InterviewTemplate
from service.domain.tokens import new_token
from service.extensions import make_engine
from service.persistence import Base, migrate
from service.persistence.applications import Application
from service.persistence.reports import ENTRY_KINDS
from service.persistence.templates import TemplateVersion

CHUNK = 2_000  # applications generated and written per transaction
TEAM_SIZE = 50
TEMPLATE_WEIGHTS = {"backend_engineer": 0.6, "product_designer": 0.25, "engineering_manager": 0.15}
# Base probability of passing each step (logit scale shifted by the latent level).
PASS_RATES = {
    "applied": 0.3,
    "screen": 0.5,
    "interview_screen": 0.35,
    "onsite": 0.9,
    "debrief": 0.3,
    "offer": 0.8,
}
WITHDRAW_SHARE = 0.15  # of the applications that stop, how many withdraw rather than get rejected
LATE_HOURS_MEDIAN = 5.0
AMEND_SHARE = 0.03
DRAFT_SHARE = 0.3  # of the scorecards not yet submitted
FORGOTTEN_SHARE = 0.02  # completed interviews that never got a scorecard
NULL_SCORE_SHARE = 0.04
SUMMARIES = {
    "strong_no": "Well below the bar on the competencies this interview covered.",
    "no": "Below the bar on most of what I assessed; details in the evidence.",
    "yes": "Meets the bar; clear examples and sound reasoning throughout.",
    "strong_yes": "Clearly above the bar; raised the level of the conversation.",
}
EVIDENCE = {
    1: "Did not reach a working answer for the main case even with two hints; did not test it.",
    2: "Reached the main case after repeated hints; covered the happy path only, missed edges.",
    3: "Restated the problem, compared two approaches with their cost, tested an edge case unprompted.",
    4: "Found the simpler framing, predicted where the design breaks, and explained each trade-off.",
}


@dataclass
class Ids:
    """Next free id per table, so rows can reference each other before they are written."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Person:
    id: int
    email: str
    name: str
    role: str
    token: str


@dataclass
class Org:
    admin: Person
    recruiters: list[Person]
    hiring_managers: list[Person]
    interviewers: list[Person]
    teams: list[list[int]]  # interviewer indexes per team
    leniency: list[float]
    workload: list[float]


class Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany `insert()` elsewhere."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.copy = connection.dialect.name == "postgresql"
        self.rows = 0

    def write(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        sa_table = self._table(table)
        if not self.copy:
            for start in range(0, len(rows), 5_000):
                self.connection.execute(sa_table.insert(), list(rows[start : start + 5_000]))
            return
        columns = list(rows[0])
        json_columns = {
            c.name for c in sa_table.columns if c.type._type_affinity.__name__ == "JSON"
        }
        cursor = self.connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )

    def _table(self, name: str) -> Table:
        known = Base.metadata.tables.get(name)
        return (
            known if known is not None else Table(name, MetaData(), autoload_with=self.connection)
        )


def generate(
    database_url: str,
    applications: int,
    *,
    seed: int = 1,
    tokens_path: Path | None = None,
    now: datetime | None = None,
    fit_calibration: bool = True,
    progress: bool = True,
    busy_requisition: int = 0,
) -> dict[str, Any]:
    """Migrate, sync templates and load an organisation with `applications` applications,
    plus, with `busy_requisition`, one more open requisition with that many active ones
    (for the board's bench: a generated requisition has a few dozen).

    Refuses a database that already has applications. Returns counts and timings.
    """
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        templates = _sync_templates(engine)
        with engine.connect() as connection:
            if connection.scalar(select(func.count()).select_from(Application)):
                raise SystemExit(
                    f"{_safe(database_url)} already has applications; use an empty database."
                )
            ids = Ids(
                {
                    name: (connection.scalar(select(func.max(table.c.id))) or 0) + 1
                    for name, table in Base.metadata.tables.items()
                    if "id" in table.c
                }
            )
        rng = random.Random(seed)
        sizes = _sizes(applications)
        with engine.begin() as connection:
            writer = Writer(connection)
            org = _organisation(writer, ids, rng, sizes)
            requisitions = _requisitions(writer, ids, rng, sizes, org, templates, now)
        counts = {"requisitions": len(requisitions)}
        bar = Progress("applications", applications, enabled=progress)
        loader = ApplicationLoader(ids, rng, org, requisitions, now)
        for start in range(0, applications, CHUNK):
            n = min(CHUNK, applications - start)
            with engine.begin() as connection:
                writer = Writer(connection)
                for table, rows in loader.chunk(n).items():
                    writer.write(table, rows)
                    counts[table] = counts.get(table, 0) + len(rows)
            bar.update(start + n)
        bar.done()
        if busy_requisition:
            with engine.begin() as connection:
                for table, rows in _busy_requisition(
                    ids, rng, org, templates, now, busy_requisition
                ).items():
                    Writer(connection).write(table, rows)
                    counts[table] = counts.get(table, 0) + len(rows)
        loaded_s = time.perf_counter() - started
        counts["self_identifications"] = _self_identifications(engine, loader, rng, org, progress)
        _reset_sequences(engine)
        skipped = _skipped_tables(engine)
        calibration_s = _fit_calibration(engine) if fit_calibration else None
        summary = {
            "database": _safe(database_url),
            "seed": seed,
            "now": now.isoformat(),
            "applications": applications,
            "users": len(org.interviewers) + len(org.recruiters) + len(org.hiring_managers) + 1,
            "interviewers": len(org.interviewers),
            "requisitions": len(requisitions),
            "rows": counts,
            "load_s": round(loaded_s, 2),
            "calibration_fit_s": calibration_s,
            "not_generated": skipped,
        }
        if tokens_path is not None:
            tokens_path.parent.mkdir(parents=True, exist_ok=True)
            tokens_path.write_text(json.dumps(_tokens(org, summary), indent=1))
        return summary
    finally:
        engine.dispose()


def _sizes(applications: int) -> dict[str, int]:
    """Organisation size for a yearly volume of applications."""
    requisitions = max(6, applications // 60)
    return {
        "recruiters": min(40, max(2, applications // 5_000)),
        "hiring_managers": min(400, max(3, requisitions // 4)),
        "interviewers": min(1_000, max(40, applications // 50)),
        "requisitions": requisitions,
    }


def _sync_templates(engine: Engine) -> dict[str, tuple[int, InterviewTemplate]]:
    from service.usecases.templates import sync_templates

    with Session(engine) as session:
        sync_templates(session, load_template_dir(TEMPLATE_DIR))
        rows = session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)).all()
        # The latest stored version of each key, as `current_template_version` picks it.
        return {row.key: (row.id, row.template()) for row in rows}


def _organisation(writer: Writer, ids: Ids, rng: random.Random, sizes: dict[str, int]) -> Org:
    created = datetime(2024, 1, 1, tzinfo=UTC)
    tag = ids.next["users"]  # keeps emails unique if the database already has users

    def people(role: str, count: int, label: str) -> list[Person]:
        return [
            Person(
                ids.take("users"),
                f"{label}{i}.{tag}@bench.example",
                f"{label.title()} {i}",
                role,
                "",
            )
            for i in range(count)
        ]

    admin = people("admin", 1, "admin")[0]
    recruiters = people("recruiter", sizes["recruiters"], "recruiter")
    managers = people("hiring_manager", sizes["hiring_managers"], "manager")
    interviewers = people("interviewer", sizes["interviewers"], "interviewer")
    everyone = [admin, *recruiters, *managers, *interviewers]
    tokens = []
    for person in everyone:
        person.token, token_hash = new_token()
        tokens.append(
            {
                "id": ids.take("api_tokens"),
                "user_id": person.id,
                "token_hash": token_hash,
                "created_at": created,
                "revoked_at": None,
            }
        )
    writer.write(
        "users",
        [
            {
                "id": p.id,
                "email": p.email,
                "name": p.name,
                "role": p.role,
                "active": True,
                "created_at": created,
            }
            for p in everyone
        ],
    )
    writer.write("api_tokens", tokens)
    n_teams = max(1, round(len(interviewers) / TEAM_SIZE))
    teams = [list(range(t, len(interviewers), n_teams)) for t in range(n_teams)]
    return Org(
        admin,
        recruiters,
        managers,
        interviewers,
        teams,
        leniency=[rng.gauss(0.0, 0.4) for _ in interviewers],
        workload=[rng.gammavariate(1.5, 1.0) + 0.05 for _ in interviewers],
    )


@dataclass
class Req:
    id: int
    team: int
    template: InterviewTemplate
    opened_at: datetime


def _requisitions(
    writer: Writer,
    ids: Ids,
    rng: random.Random,
    sizes: dict[str, int],
    org: Org,
    templates: dict[str, tuple[int, InterviewTemplate]],
    now: datetime,
) -> list[Req]:
    keys = [k for k in TEMPLATE_WEIGHTS if k in templates] or list(templates)
    weights = [TEMPLATE_WEIGHTS.get(k, 1.0) for k in keys]
    reqs, rows = [], []
    for i in range(sizes["requisitions"]):
        key = rng.choices(keys, weights)[0]
        version_id, template = templates[key]
        opened = now - timedelta(days=rng.uniform(30, 420))
        req = Req(ids.take("requisitions"), rng.randrange(len(org.teams)), template, opened)
        reqs.append(req)
        status = rng.choices(("open", "on_hold", "closed"), (0.7, 0.05, 0.25))[0]
        rows.append(
            {
                "id": req.id,
                "title": f"{template.title} #{i + 1}",
                "team": f"Team {req.team}",
                "hiring_manager_id": rng.choice(org.hiring_managers).id,
                "template_version_id": version_id,
                "status": status,
                "headcount": rng.choice((1, 1, 1, 2, 3)),
                "created_at": opened,
                "updated_at": opened,
            }
        )
    writer.write("requisitions", rows)
    return reqs


def _busy_requisition(
    ids: Ids,
    rng: random.Random,
    org: Org,
    templates: dict[str, tuple[int, InterviewTemplate]],
    now: datetime,
    active: int,
) -> dict[str, list[dict[str, Any]]]:
    """An open requisition with `active` active applications spread over its stages, each
    in its stage for up to twice the stage's target (so about half are past it)."""
    key = "backend_engineer" if "backend_engineer" in templates else next(iter(templates))
    version_id, template = templates[key]
    opened = now - timedelta(days=120)
    requisition_id = ids.take("requisitions")
    out: dict[str, list[dict[str, Any]]] = {
        "requisitions": [
            {
                "id": requisition_id,
                "title": f"{template.title} (busy)",
                "team": "Team 0",
                "hiring_manager_id": org.hiring_managers[0].id,
                "recruiter_id": org.recruiters[0].id,
                "template_version_id": version_id,
                "status": "open",
                "headcount": 3,
                "created_at": opened,
                "updated_at": opened,
            }
        ],
        "candidates": [],
        "applications": [],
        "stage_changes": [],
    }
    stages = template.stages[:-1]  # nobody in the offer stage yet
    for n in range(active):
        index = n % len(stages)
        stage = stages[index]
        entered = now - timedelta(days=rng.uniform(0, 2 * max(stage.sla_days, 1)))
        created = entered - timedelta(days=3 * index)
        candidate_id, app_id = ids.take("candidates"), ids.take("applications")
        out["candidates"].append(
            {
                "id": candidate_id,
                "name": f"Candidate {candidate_id}",
                "email": f"candidate{candidate_id}@bench.example",
                "phone": "",
                "source": rng.choice(("referral", "linkedin", "careers page", "agency")),
                "links": [],
                "resume_text": "",
                "created_at": created,
                "updated_at": created,
            }
        )
        history = [("applied", created, None, stages[0].key)]
        history += [
            ("moved", created + timedelta(days=3 * (i + 1)), s.key, stages[i + 1].key)
            for i, s in enumerate(stages[:index])
        ]
        for kind, at, from_stage, to_stage in history:
            out["stage_changes"].append(
                {
                    "id": ids.take("stage_changes"),
                    "application_id": app_id,
                    "kind": kind,
                    "from_stage": from_stage,
                    "to_stage": to_stage,
                    "from_status": None if kind == "applied" else "active",
                    "to_status": "active",
                    "actor_id": org.recruiters[0].id,
                    "reason": "Passed" if kind == "moved" else "",
                    "at": at,
                }
            )
        out["applications"].append(
            {
                "id": app_id,
                "candidate_id": candidate_id,
                "requisition_id": requisition_id,
                "stage": stage.key,
                "entered_stages": joined_stages(to for _, _, _, to in history),
                "status": "active",
                "stage_entered_at": entered,
                "rejection_reason": None,
                "rejection_note": None,
                "created_at": created,
                "updated_at": entered,
                "version": len(history),
            }
        )
    return out


class ApplicationLoader:
    """Generates applications and everything hanging off them, a chunk at a time."""

    def __init__(self, ids: Ids, rng: random.Random, org: Org, reqs: list[Req], now: datetime):
        self.ids, self.rng, self.org, self.reqs, self.now = ids, rng, org, reqs, now
        self.past_candidates: list[int] = []
        self.first_application = ids.next["applications"]
        self.comp_effect: dict[str, float] = {}
        # Each interviewer's scheduled (future) slots: PostgreSQL refuses overlapping ones
        # (ex_interviews_no_double_booking), as the API does.
        self.booked: dict[int, list[tuple[datetime, datetime]]] = {}

    def chunk(self, n: int) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {
            t: []
            for t in (
                "candidates",
                "applications",
                "stage_changes",
                "interviews",
                "process_deviations",
                "scorecards",
                "scorecard_revisions",
                "scorecard_ratings",
                "scorecard_views",
            )
        }
        for _ in range(n):
            self._application(out)
        return out

    def _application(self, out: dict[str, list[dict[str, Any]]]) -> None:
        rng, now = self.rng, self.now
        req = rng.choice(self.reqs)
        template = req.template
        created = min(
            now - timedelta(hours=1), req.opened_at + timedelta(days=rng.expovariate(1 / 60))
        )
        # One applicant in twenty applied before (to another requisition).
        if self.past_candidates and rng.random() < 0.05:
            candidate_id = rng.choice(self.past_candidates)
        else:
            candidate_id = self.ids.take("candidates")
            out["candidates"].append(
                {
                    "id": candidate_id,
                    "name": f"Candidate {candidate_id}",
                    "email": f"candidate{candidate_id}@bench.example",
                    "phone": "",
                    "source": rng.choice(
                        ("referral", "linkedin", "careers page", "agency", "conference")
                    ),
                    "links": [],
                    "resume_text": "",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            self.past_candidates.append(candidate_id)
        app_id = self.ids.take("applications")
        level = rng.gauss(0.0, 1.0)
        recruiter = rng.choice(self.org.recruiters).id
        changes: list[dict[str, Any]] = []

        def change(
            kind: str,
            at: datetime,
            from_stage: str | None,
            to_stage: str,
            from_status: str | None,
            to_status: str,
            reason: str = "",
        ) -> None:
            changes.append(
                {
                    "id": self.ids.take("stage_changes"),
                    "application_id": app_id,
                    "kind": kind,
                    "from_stage": from_stage,
                    "to_stage": to_stage,
                    "from_status": from_status,
                    "to_status": to_status,
                    "actor_id": recruiter,
                    "reason": reason,
                    "at": at,
                }
            )

        stages = template.stages
        change("applied", created, None, stages[0].key, None, "active")
        t, index, status, rejection = created, 0, "active", None
        panel_used: set[int] = set()
        while True:
            stage = stages[index]
            planned = [i for i in template.interviews if i.stage == stage.key]
            evidence = (
                self._loop(out, app_id, req, planned, t, level, panel_used) if planned else None
            )
            if evidence is not None and evidence > now:
                break  # the loop (or its feedback) is still under way
            dwell = timedelta(days=stage.sla_days * rng.lognormvariate(-0.2, 0.5))
            decided = max(t + dwell, evidence or t)
            if decided > now:
                break
            step = self._step(stage.key, index, len(stages), planned)
            if rng.random() < _pass_probability(PASS_RATES[step], level):
                if index == len(stages) - 1:
                    status = "hired"
                    change(
                        "hired", decided, stage.key, stage.key, "active", "hired", "Offer accepted"
                    )
                    t = decided
                    break
                nxt = stages[index + 1]
                change("moved", decided, stage.key, nxt.key, "active", "active", "Passed")
                t, index = decided, index + 1
                continue
            if rng.random() < WITHDRAW_SHARE:
                status = "withdrawn"
                change(
                    "withdrawn",
                    decided,
                    stage.key,
                    stage.key,
                    "active",
                    "withdrawn",
                    "Accepted another offer",
                )
            else:
                status = "rejected"
                rejection = (
                    "interview_performance"
                    if planned or index >= 3
                    else rng.choice(("skills_gap", "experience_level", "position_filled"))
                )
                change(
                    "rejected",
                    decided,
                    stage.key,
                    stage.key,
                    "active",
                    "rejected",
                    "Not a match for this role now",
                )
            t = decided
            break
        stage_entered = next(
            (c["at"] for c in reversed(changes) if c["kind"] in ("moved", "applied")), created
        )
        out["applications"].append(
            {
                "id": app_id,
                "candidate_id": candidate_id,
                "requisition_id": req.id,
                "stage": stages[index].key,
                "entered_stages": joined_stages(
                    c["to_stage"] for c in changes if c["kind"] in ENTRY_KINDS
                ),
                "status": status,
                "stage_entered_at": stage_entered,
                "rejection_reason": rejection,
                "rejection_note": "Not a match for this role now" if rejection else None,
                "created_at": created,
                "updated_at": changes[-1]["at"],
                "version": len(changes),
            }
        )
        out["stage_changes"].extend(changes)

    @staticmethod
    def _step(stage: str, index: int, n_stages: int, planned: list) -> str:
        if index == 0:
            return "applied"
        if index == n_stages - 1:
            return "offer"
        if stage == "onsite":
            return "onsite"
        if stage == "debrief":
            return "debrief"
        return "interview_screen" if planned else "screen"

    def _free_slot(self, interviewer_id: int, starts: datetime, minutes: int) -> datetime:
        """`starts`, or the first time after it when the interviewer is free; booked."""
        slots = self.booked.setdefault(interviewer_id, [])
        moved = True
        while moved:
            moved = False
            for begin, end in slots:
                if starts < end and begin < starts + timedelta(minutes=minutes):
                    starts, moved = end + timedelta(minutes=15), True
        slots.append((starts, starts + timedelta(minutes=minutes)))
        return starts

    def _loop(
        self,
        out,
        app_id: int,
        req: Req,
        planned: list,
        entered: datetime,
        level: float,
        panel_used: set[int],
    ) -> datetime | None:
        """Interviews of one stage, with their scorecards; returns when the last feedback was in."""
        rng, now = self.rng, self.now
        starts = entered + timedelta(days=rng.uniform(2, 8), hours=rng.choice((9, 10, 13, 14)))
        last_feedback = starts
        panel = self._panel(req.team, len(planned), panel_used)
        for planned_interview, interviewer in zip(planned, panel, strict=True):
            interview_id = self.ids.take("interviews")
            duration = planned_interview.duration_minutes
            happened = starts + timedelta(minutes=duration) <= now
            roll = rng.random()
            status = "scheduled"
            slot_start = starts
            if not happened:
                slot_start = self._free_slot(interviewer.id, starts, duration)
            if happened:
                status = (
                    "completed" if roll > 0.04 else ("no_show" if roll > 0.015 else "cancelled")
                )
            out["interviews"].append(
                {
                    "id": interview_id,
                    "application_id": app_id,
                    "interview_key": planned_interview.key,
                    "interviewer_id": interviewer.id,
                    "starts_at": slot_start,
                    "duration_minutes": duration,
                    "status": status,
                    "actual_minutes": duration + rng.choice((-5, 0, 0, 0, 5, 10))
                    if status == "completed"
                    else None,
                    "status_reason": ""
                    if status in ("scheduled", "completed")
                    else "Candidate did not join",
                    "created_at": entered,
                    "updated_at": starts,
                }
            )
            if status in ("cancelled", "no_show"):
                out["process_deviations"].append(
                    {
                        "id": self.ids.take("process_deviations"),
                        "application_id": app_id,
                        "interview_id": interview_id,
                        "interview_key": planned_interview.key,
                        "kind": "skipped",
                        "actor_id": self.org.recruiters[0].id,
                        "reason": "Candidate did not join; the panel had enough evidence",
                        "at": starts,
                    }
                )
            if status != "completed":
                if not happened:
                    last_feedback = max(last_feedback, now + timedelta(days=1))
                starts += timedelta(minutes=duration)
                continue
            ends = starts + timedelta(minutes=duration)
            submitted = ends + timedelta(hours=rng.lognormvariate(math.log(LATE_HOURS_MEDIAN), 1.1))
            self._scorecard(
                out,
                app_id,
                interview_id,
                planned_interview.competencies,
                interviewer,
                req.template,
                level,
                ends,
                submitted,
            )
            last_feedback = max(last_feedback, min(submitted, now + timedelta(days=1)))
            starts = ends
        return last_feedback

    def _panel(self, team: int, size: int, used: set[int]) -> list[Person]:
        """Distinct interviewers, mostly from the requisition's team, weighted by workload."""
        rng, org = self.rng, self.org
        members = org.teams[team]
        chosen: list[int] = []
        while len(chosen) < size:
            if rng.random() < 0.1:
                pick = rng.randrange(len(org.interviewers))
            else:
                pick = rng.choices(members, [org.workload[m] for m in members])[0]
            if pick not in chosen and (pick not in used or len(used) >= len(members) - size):
                chosen.append(pick)
        used.update(chosen)
        return [org.interviewers[i] for i in chosen]

    def _scorecard(
        self,
        out,
        app_id: int,
        interview_id: int,
        competencies: Sequence[str],
        interviewer: Person,
        template: InterviewTemplate,
        level: float,
        ends: datetime,
        submitted: datetime,
    ) -> None:
        rng, now = self.rng, self.now
        leniency = self.org.leniency[_interviewer_index(self.org, interviewer)]
        scores = []
        for key in competencies:
            effect = self.comp_effect.setdefault(key, rng.gauss(0.0, 0.2))
            raw = 2.5 + 0.6 * level + effect + leniency + rng.gauss(0.0, 0.6)
            scores.append(min(4, max(1, round(raw))))
        nulls = [rng.random() < NULL_SCORE_SHARE for _ in scores]
        if all(nulls):
            nulls[0] = False
        ratings = [
            (k, None if null else s) for k, s, null in zip(competencies, scores, nulls, strict=True)
        ]
        scorecard_id = self.ids.take("scorecards")
        card = {
            "id": scorecard_id,
            "interview_id": interview_id,
            "application_id": app_id,
            "author_id": interviewer.id,
            "state": "submitted",
            "draft": None,
            "submitted_at": submitted,
            "late": False,
            "revision": 1,
            "created_at": ends,
            "updated_at": submitted,
        }
        if submitted > now or rng.random() < FORGOTTEN_SHARE:
            self.ids.next["scorecards"] -= 1  # id not used: give it back
            if submitted > now and rng.random() < DRAFT_SHARE:
                card.update(
                    id=self.ids.take("scorecards"),
                    state="draft",
                    submitted_at=None,
                    revision=0,
                    updated_at=ends + (now - ends) / 2,
                    draft={
                        "ratings": [_rating_json(k, s) for k, s in ratings],
                        "recommendation": None,
                        "summary": "",
                        "warnings": [],
                    },
                )
                out["scorecards"].append(card)
            return
        card["late"] = submitted - ends > timedelta(hours=template.scoring.late_feedback_hours)
        self._revision(out, scorecard_id, 1, ratings, interviewer.id, submitted, "", False)
        if rng.random() < AMEND_SHARE:
            amended = submitted + timedelta(hours=rng.uniform(4, 72))
            if amended < now:
                seen = rng.random() < 0.4
                changed = list(ratings)
                pick = rng.randrange(len(changed))
                key, score = changed[pick]
                changed[pick] = (
                    key,
                    None if score is None else min(4, max(1, score + rng.choice((-1, 1)))),
                )
                if seen:
                    out["scorecard_views"].append(
                        {
                            "id": self.ids.take("scorecard_views"),
                            "application_id": app_id,
                            "user_id": interviewer.id,
                            "first_seen_at": amended - timedelta(hours=1),
                        }
                    )
                self._revision(
                    out,
                    scorecard_id,
                    2,
                    changed,
                    interviewer.id,
                    amended,
                    "Corrected a score after re-reading my notes",
                    seen,
                )
                card.update(revision=2, updated_at=amended)
        out["scorecards"].append(card)

    def _revision(
        self,
        out,
        scorecard_id: int,
        number: int,
        ratings: list[tuple[str, int | None]],
        author: int,
        at: datetime,
        reason: str,
        seen: bool,
    ) -> None:
        revision_id = self.ids.take("scorecard_revisions")
        scored = [s for _, s in ratings if s is not None]
        mean = sum(scored) / len(scored) + self.rng.gauss(0.0, 0.3)
        recommendation = (
            "strong_yes"
            if mean >= 3.5
            else "yes"
            if mean >= 2.6
            else "no"
            if mean >= 1.8
            else "strong_no"
        )
        out["scorecard_revisions"].append(
            {
                "id": revision_id,
                "scorecard_id": scorecard_id,
                "number": number,
                "recommendation": recommendation,
                "summary": SUMMARIES[recommendation],
                "reason": reason,
                "warnings": [],
                "after_seeing_others": seen,
                "created_by_id": author,
                "created_at": at,
            }
        )
        out["scorecard_ratings"].extend(
            {
                "id": self.ids.take("scorecard_ratings"),
                "revision_id": revision_id,
                "competency": key,
                "score": score,
                "evidence": EVIDENCE[score] if score else "",
            }
            for key, score in ratings
        )


def _interviewer_index(org: Org, person: Person) -> int:
    # Interviewer ids are consecutive, so the index is an offset.
    return person.id - org.interviewers[0].id


def _rating_json(key: str, score: int | None) -> dict[str, Any]:
    return {"competency": key, "score": score, "evidence": EVIDENCE[score] if score else ""}


def _pass_probability(base: float, level: float) -> float:
    logit = math.log(base / (1 - base)) + 0.8 * level
    return 1 / (1 + math.exp(-logit))


SELF_ID_SHARE = 0.6  # applicants who answer the voluntary questions at all
SELF_ID_WEIGHTS = {  # answer shares among those who answer (declines included)
    "sex": {"female": 0.42, "male": 0.5, "non_binary": 0.02},
    "race_ethnicity": {
        "white": 0.45,
        "asian": 0.22,
        "hispanic_or_latino": 0.12,
        "black_or_african_american": 0.1,
        "two_or_more_races": 0.03,
        "native_hawaiian_or_other_pacific_islander": 0.005,
        "american_indian_or_alaska_native": 0.005,
    },
    "veteran_status": {"protected_veteran": 0.04, "not_a_protected_veteran": 0.86},
    "disability_status": {"has_disability": 0.07, "no_disability": 0.83},
}


def _self_identifications(
    engine: Engine, loader: ApplicationLoader, rng: random.Random, org: Org, progress: bool
) -> int:
    """Answers for part of the applicants, when the self-identification table exists.

    Drawn independently of the latent level, so the data hold no built-in adverse impact.
    """
    if "self_identifications" not in inspect(engine).get_table_names():
        return 0
    first, last = loader.first_application, loader.ids.next["applications"]
    answered = [a for a in range(first, last) if rng.random() < SELF_ID_SHARE]
    choices = {}
    for question, allowed in QUESTIONS.items():
        weights = {a: SELF_ID_WEIGHTS.get(question, {}).get(a, 0.0) for a in allowed}
        weights[DECLINED] = max(0.0, 1.0 - sum(weights.values())) or 0.1
        choices[question] = (list(weights), list(weights.values()))
    next_id = loader.ids.next.get("self_identifications")
    if next_id is None:
        with engine.connect() as connection:
            next_id = (connection.scalar(text("SELECT max(id) FROM self_identifications")) or 0) + 1
    bar = Progress("self-identifications", len(answered), enabled=progress)
    for start in range(0, len(answered), 20_000):
        rows = [
            {
                "id": next_id + start + n,
                "application_id": app_id,
                **{q: rng.choices(*choices[q])[0] for q in QUESTIONS},
                "recorded_by_id": org.admin.id,
                "recorded_at": loader.now - timedelta(days=1),
            }
            for n, app_id in enumerate(answered[start : start + 20_000])
        ]
        with engine.begin() as connection:
            Writer(connection).write("self_identifications", rows)
        bar.update(start + len(rows))
    bar.done()
    return len(answered)


def _reset_sequences(engine: Engine, vacuum: bool = True) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the loaded rows."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        names = [n for n, t in Base.metadata.tables.items() if "id" in t.c]
        if "self_identifications" in inspect(connection).get_table_names():
            names.append("self_identifications")
        for name in dict.fromkeys(names):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"GREATEST((SELECT max(id) FROM {name}), 1))"
                )
            )
    if not vacuum:
        return
    # Statistics for the planner, and the visibility map set now, so autovacuum does
    # not start on the freshly loaded tables in the middle of a measurement.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _skipped_tables(engine: Engine) -> list[str]:
    """Tables the generator does not fill yet (new features land before their generator)."""
    filled = {
        "users",
        "api_tokens",
        "template_versions",
        "requisitions",
        "candidates",
        "applications",
        "stage_changes",
        "interviews",
        "process_deviations",
        "scorecards",
        "scorecard_revisions",
        "scorecard_ratings",
        "scorecard_views",
        "calibration_runs",
        "interviewer_calibrations",
        "audit_events",
        "alembic_version",
        "self_identifications",
    }
    return sorted(set(inspect(engine).get_table_names()) - filled)


def _fit_calibration(engine: Engine) -> float:
    from service.usecases.calibration import refit_calibration

    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        refit_calibration(session, full=True)
    return round(time.perf_counter() - started, 2)


def _tokens(org: Org, summary: dict[str, Any]) -> dict[str, Any]:
    def plain(people: Iterable[Person]) -> list[dict[str, Any]]:
        return [{"id": p.id, "email": p.email, "token": p.token} for p in people]

    return {
        "summary": summary,
        "admin": plain([org.admin])[0],
        "recruiters": plain(org.recruiters),
        "hiring_managers": plain(org.hiring_managers),
        "interviewers": plain(org.interviewers),
    }


def add_pending_interviews(
    database_url: str, interviewers: list[dict[str, Any]], count: int, *, seed: int = 1
) -> list[dict[str, Any]]:
    """Onsite interviews that ended an hour ago and await their scorecard, for the submit bench.

    Picks active applications (onsite ones first) and gives each a fresh interview
    with an interviewer from `interviewers` (the tokens file's entries). Returns
    [{interview_id, application_id, token, competencies}].
    """
    rng = random.Random(seed)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            versions = {row.id: row.template() for row in session.scalars(select(TemplateVersion))}
            from service.persistence.requisitions import Requisition

            rows = session.execute(
                select(Application.id, Requisition.template_version_id)
                .join(Requisition, Requisition.id == Application.requisition_id)
                .where(Application.status == "active")
                .order_by((Application.stage == "onsite").desc(), Application.id.desc())
                .limit(count)
            ).all()
            next_id = (
                session.scalar(select(func.max(Base.metadata.tables["interviews"].c.id))) or 0
            ) + 1
        now = datetime.now(UTC).replace(microsecond=0)
        pending, interviews = [], []
        for n in range(count):
            app_id, version_id = rows[n % len(rows)]
            template = versions[version_id]
            planned = rng.choice([i for i in template.interviews if i.stage == "onsite"])
            who = rng.choice(interviewers)
            starts = now - timedelta(minutes=planned.duration_minutes + 60)
            interviews.append(
                {
                    "id": next_id + n,
                    "application_id": app_id,
                    "interview_key": planned.key,
                    "interviewer_id": who["id"],
                    "starts_at": starts,
                    "duration_minutes": planned.duration_minutes,
                    "status": "completed",
                    "actual_minutes": planned.duration_minutes,
                    "status_reason": "",
                    "created_at": starts,
                    "updated_at": starts,
                }
            )
            pending.append(
                {
                    "interview_id": next_id + n,
                    "application_id": app_id,
                    "token": who["token"],
                    "competencies": list(planned.competencies),
                }
            )
        with engine.begin() as connection:
            Writer(connection).write("interviews", interviews)
        _reset_sequences(engine, vacuum=False)
        return pending
    finally:
        engine.dispose()


class Progress:
    """A one-line progress report on stderr: count, share, rate and time left."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.started = time.perf_counter()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0.0
        left = (self.total - done) / rate if rate else 0.0
        sys.stderr.write(
            f"\r{self.label}: {done}/{self.total} ({100 * done / self.total:.0f} %), "
            f"{rate:,.0f}/s, {elapsed:.0f} s elapsed, ~{left:.0f} s left "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _safe(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--applications", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--tokens",
        type=Path,
        default=None,
        help="where to write the plain API tokens (JSON) [instance/bench/tokens.json]",
    )
    parser.add_argument(
        "--no-calibration", action="store_true", help="skip the final calibration fit"
    )
    parser.add_argument(
        "--busy-requisition",
        type=int,
        default=0,
        metavar="N",
        help="add one open requisition with N active applications (the board's bench)",
    )
    args = parser.parse_args(argv)
    summary = generate(
        args.database_url,
        args.applications,
        seed=args.seed,
        tokens_path=args.tokens or Path("instance/bench/tokens.json"),
        fit_calibration=not args.no_calibration,
        busy_requisition=args.busy_requisition,
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
