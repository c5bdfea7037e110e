"""The events the service announces (webhooks, notifications) and when reminders fall due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.templates import Reminders

EVENT_TYPES = (
    "interview.scheduled",
    "interview.rescheduled",
    "interview.reassigned",
    "interview.cancelled",
    "scorecard.due",
    "scorecard.overdue",
    "scorecard.reminder",
    "scorecard.submitted",
    "loop.completed",
    "packet.ready",
    "decision.recorded",
    "decision.changed",
    "application.moved",
    "application.rejected",
    "application.hired",
    "application.withdrawn",
    "application.reopened",
    "application.stage_overdue",
    "webhook.disabled",
    "webhook.ping",
)


@dataclass(frozen=True)
class ReminderStep:
    """One announcement about an owed scorecard: `kind` is the event type, `key` names the
    step so it is announced once (`due`, `overdue`, `reminder-2`)."""

    kind: str
    key: str
    at: datetime
    number: int = 0


def scorecard_steps(
    ends_at: datetime, late_feedback_hours: int, reminders: Reminders
) -> list[ReminderStep]:
    """Due when the interview ends, overdue after the template's late-feedback hours, a
    reminder at end + first_after_hours and every every_hours after, max_reminders times."""
    steps = [
        ReminderStep("scorecard.due", "due", ends_at),
        ReminderStep(
            "scorecard.overdue", "overdue", ends_at + timedelta(hours=late_feedback_hours)
        ),
    ]
    for number in range(1, reminders.max_reminders + 1):
        hours = reminders.first_after_hours + (number - 1) * reminders.every_hours
        steps.append(
            ReminderStep(
                "scorecard.reminder", f"reminder-{number}", ends_at + timedelta(hours=hours), number
            )
        )
    return sorted(steps, key=lambda step: step.at)


def steps_due(steps: list[ReminderStep], now: datetime) -> list[ReminderStep]:
    """The steps whose time has come. A pass that runs late announces only the latest
    reminder it missed (nobody wants three reminders at once), but due and overdue once each."""
    reached = [step for step in steps if step.at <= now]
    reminders = [step for step in reached if step.kind == "scorecard.reminder"]
    return [step for step in reached if step.kind != "scorecard.reminder"] + reminders[-1:]
