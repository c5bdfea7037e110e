"""Telling people: the outbox dispatcher, in-app notifications, emails and digests.

`dispatch_events` (a job after each commit that emitted events, and the periodic sweep)
takes pending outbox events, makes one webhook delivery per subscribed endpoint
(`usecases.webhooks`), one notification per person the event concerns and, by each
person's preference, an email now or a line in their daily digest, and marks the event
dispatched; all in one transaction, so an event is fanned out once. The deliveries
and emails are sent by jobs enqueued after that commit. Reminders about owed
scorecards cannot be turned off: with the preference `off` they go to the digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import jobs
from service.config import Settings
from service.domain.access import ADMIN, RECRUITER, Viewer
from service.domain.errors import NotFoundError, RuleViolationError
from service.domain.loops import ACTIVE_INTERVIEW_STATUSES
from service.domain.reports import stage_maps
from service.mail.calendar import InterviewSlot, invitation
from service.mail.compose import Item, mime_message, render_bodies
from service.mail.transport import MailTransport
from service.persistence.applications import Application
from service.persistence.audit import record_event
from service.persistence.base import utcnow
from service.persistence.interviews import Interview
from service.persistence.loops import interview_facts
from service.persistence.notifications import (
    EMAIL_PREFERENCES,
    EmailMessage,
    Notification,
    NotificationPreference,
    digest_notifications,
    email_preference,
    pending_emails,
)
from service.persistence.outbox import OutboxEvent, pending_events
from service.persistence.packets import Packet
from service.persistence.paging import Page, paginate
from service.persistence.reports import ApplicationFilters, overdue_applications, template_versions
from service.persistence.users import User
from service.usecases.access import get_interview
from service.usecases.outbox import EVENTS_QUEUE, emit_event
from service.usecases.webhooks import add_deliveries, enqueue_delivery, policy_of, sweep_deliveries

log = logging.getLogger(__name__)

SEND_EMAIL_JOB = "workers.jobs.send_email"
BATCH = 100
# Job runs (each with RQ's transient retries) before an email is given up as failed.
MAX_EMAIL_ATTEMPTS = 10
# Reminders of owed scorecards: batched into the digest at most, never dropped.
MANDATORY = frozenset({"scorecard.due", "scorecard.overdue", "scorecard.reminder"})
# Interview events that carry an invitation (or its cancellation) for the interviewer.
CALENDAR_EVENTS = frozenset(
    {"interview.scheduled", "interview.rescheduled", "interview.reassigned", "interview.cancelled"}
)


@dataclass(frozen=True)
class Tell:
    """One person to tell about one event."""

    user: User
    item: Item
    calendar: str | None = None


def dispatch_events(session: Session, settings: Settings) -> int:
    """Fan out every pending outbox event; returns how many were dispatched."""
    policy = policy_of(settings)
    total = 0
    while True:
        events = pending_events(session, BATCH)
        if not events:
            return total
        for event in events:
            for delivery in add_deliveries(session, event):
                enqueue_delivery(session, delivery, policy)
            for tell in _whom_to_tell(session, event, settings):
                _notify(session, event, tell, settings)
            _derive(session, event)
            event.dispatched_at = utcnow()
        session.commit()
        total += len(events)


def sweep(session: Session, settings: Settings) -> dict[str, int]:
    """The periodic pass for what a lost Redis dropped: undispatched events, deliveries
    whose job never ran, unsent emails. Safe to run twice at once."""
    grace = settings.outbox_sweep_interval_seconds
    dispatched = dispatch_events(session, settings)
    deliveries = sweep_deliveries(session, policy_of(settings), grace)
    emails = pending_emails(session, utcnow() - timedelta(seconds=grace), limit=500)
    for message in emails:
        _enqueue_send(session, message)
    session.commit()
    return {"events": dispatched, "deliveries": deliveries, "emails": len(emails)}


def send_email(session: Session, message_id: int, transport: MailTransport, sender: str) -> bool:
    """Send one stored email (the job's work); False when it was sent already. A
    transport error propagates (the job retries it) after the attempt is counted."""
    message = session.get(EmailMessage, message_id)
    if message is None:
        raise NotFoundError(f"Email {message_id} does not exist.")
    if message.status != "pending":
        return False
    mime = mime_message(
        sender=sender,
        to=message.to_address,
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        calendar=message.calendar,
    )
    message.attempts += 1
    try:
        transport.send(mime, message.id)
    except Exception as error:
        message.error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= MAX_EMAIL_ATTEMPTS:
            message.status = "failed"  # the sweep stops enqueueing it; the error stays
        session.commit()
        raise
    message.status, message.sent_at, message.error = "sent", utcnow(), ""
    session.commit()
    return True


def send_digests(session: Session, settings: Settings) -> int:
    """The daily digest: per person, what waited for it, and for recruiters the active
    applications past their stage's target. Returns how many emails were made."""
    waiting = digest_notifications(session)
    recruiters = list(
        session.scalars(select(User).where(User.role == RECRUITER, User.active.is_(True)))
    )
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(waiting)))}
    made, today = 0, utcnow().date().isoformat()
    for user in {**people, **{r.id: r for r in recruiters}}.values():
        notifications = waiting.get(user.id, [])
        items = [_item(n, settings) for n in notifications]
        if user.role == RECRUITER and email_preference(session, user.id) != "off":
            items += _stuck_items(session, settings, user.id)
        if not items or not user.active:
            continue
        key = f"digest:{user.id}:{today}"
        subject = f"Your hiring digest: {len(items)} items"
        if _store_email(session, user, subject, items, True, dedupe_key=key):
            for notification in notifications:
                notification.digest_pending = False
            made += 1
    session.commit()
    return made


# -- what a person sees ---------------------------------------------------------------


def list_notifications(
    session: Session,
    actor: Viewer,
    *,
    unread: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Your notifications, oldest first; `unread=true` for those not marked read."""
    stmt = select(Notification).where(Notification.user_id == actor.id)
    if unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    return paginate(session, stmt, Notification.id, cursor, limit)


def mark_read(session: Session, actor: Viewer, notification_ids: list[int]) -> int:
    """Mark these of your notifications read; returns how many changed. Someone else's
    ids change nothing."""
    stmt = update(Notification).where(
        Notification.user_id == actor.id,
        Notification.read_at.is_(None),
        Notification.id.in_(notification_ids),
    )
    changed = session.execute(stmt.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(changed)


def get_preferences(session: Session, actor: Viewer) -> dict[str, str]:
    return {"email": email_preference(session, actor.id)}


def set_preferences(session: Session, actor: Viewer, email: str) -> dict[str, str]:
    """`immediately`, `daily_digest` or `off` (owed-scorecard reminders still come, in
    the digest)."""
    if email not in EMAIL_PREFERENCES:
        raise RuleViolationError(
            f"'{email}' is not an email preference.",
            errors={"email": f"use one of: {', '.join(EMAIL_PREFERENCES)}"},
        )
    before = email_preference(session, actor.id)
    stored = session.get(NotificationPreference, actor.id)
    if stored is None:
        session.add(NotificationPreference(user_id=actor.id, email=email))
    else:
        stored.email = email
    record_event(
        session,
        actor.id,
        "notification_preferences.updated",
        "user",
        actor.id,
        before={"email": before},
        after={"email": email},
    )
    session.commit()
    return {"email": email}


# -- fan-out --------------------------------------------------------------------------


def _whom_to_tell(session: Session, event: OutboxEvent, settings: Settings) -> list[Tell]:
    data = event.data
    if event.type in CALENDAR_EVENTS or event.type in MANDATORY:
        interview = session.get(Interview, data["interview_id"])
        if interview is None:
            return []
        return _about_interview(session, event, interview, settings)
    if event.type == "loop.completed":
        application = session.get(Application, data["application_id"])
        if application is None or application.status != "active":
            return []
        return [
            Tell(
                application.requisition.hiring_manager,
                Item(
                    f"Decision waiting: {application.candidate.name}, {application.requisition.title}",
                    "Every scorecard of the loop is in. Review the assessment and record your decision.",
                    _link(settings, f"/applications/{application.id}"),
                ),
            )
        ]
    if event.type == "packet.ready":
        packet = session.get(Packet, data["packet_id"])
        # A packet the system asked for (the decision-ready job) has no one to tell.
        if packet is None or packet.requested_by_id is None:
            return []
        requester = session.get(User, packet.requested_by_id)
        if requester is None:
            return []
        return [
            Tell(
                requester,
                Item(
                    f"Packet {packet.id} is ready",
                    f"The hiring-committee packet ({packet.page_count} pages) is ready to read.",
                    _link(settings, f"/applications/{packet.application_id}"),
                ),
            )
        ]
    if event.type == "webhook.disabled":
        admins = session.scalars(select(User).where(User.role == ADMIN, User.active.is_(True)))
        return [
            Tell(
                admin,
                Item(
                    f"Webhook {data['webhook_id']} was disabled",
                    f"{data['url']}: {data['reason']} Fix the receiver, then re-enable it "
                    f'with PATCH /api/v1/webhooks/{data["webhook_id"]} {{"active": true}}.',
                    _link(settings, f"/api/v1/webhooks/{data['webhook_id']}/deliveries"),
                ),
            )
            for admin in admins
        ]
    return []  # the application's own changes go to webhooks only


def interview_calendar(
    session: Session, actor: Viewer, interview_id: int, settings: Settings
) -> str:
    """The interview's invitation as iCalendar (the one emailed to its interviewer),
    cancelled when the interview is. Raises NotFoundError."""
    interview = get_interview(session, actor, interview_id)
    title, link = _interview_title(interview), _link(settings, f"/interviews/{interview.id}")
    return invitation(_slot(interview, title, link, settings), interview.status == "cancelled")


def _interview_title(interview: Interview) -> str:
    planned = interview.template.interview(interview.interview_key)
    name = planned.title if planned else interview.interview_key
    return f"{name} with {interview.application.candidate.name}"


def _about_interview(
    session: Session, event: OutboxEvent, interview: Interview, settings: Settings
) -> list[Tell]:
    title = _interview_title(interview)
    link = _link(settings, f"/interviews/{interview.id}")
    when = f"{interview.starts_at:%A %d %B %Y, %H:%M} UTC ({interview.duration_minutes} minutes)"
    if event.type in MANDATORY:
        headline = {
            "scorecard.due": "Your scorecard is due",
            "scorecard.overdue": "Your scorecard is overdue",
            "scorecard.reminder": "Reminder: your scorecard is still owed",
        }[event.type]
        body = "Write it while the interview is fresh: evidence for each score, then submit."
        return [Tell(interview.interviewer, Item(f"{headline}: {title}", body, link))]
    slot = _slot(interview, title, link, settings)
    if event.type == "interview.reassigned":
        tells = [
            Tell(
                interview.interviewer,
                Item(f"Interview: {title}", when, link),
                invitation(slot, False),
            )
        ]
        previous = session.get(User, event.data.get("previous_interviewer_id"))
        if previous is not None:
            old = _slot(interview, title, link, settings, interviewer=previous)
            tells.append(
                Tell(
                    previous,
                    Item(f"No longer yours: {title}", "Someone else runs it now.", link),
                    invitation(old, True),
                )
            )
        return tells
    cancelled = event.type == "interview.cancelled"
    headline = {
        "interview.scheduled": "Interview",
        "interview.rescheduled": "Interview moved",
        "interview.cancelled": "Interview cancelled",
    }[event.type]
    return [
        Tell(
            interview.interviewer,
            Item(f"{headline}: {title}", when, link),
            invitation(slot, cancelled),
        )
    ]


def _slot(
    interview: Interview, title: str, link: str, settings: Settings, interviewer: User | None = None
) -> InterviewSlot:
    person = interviewer or interview.interviewer
    return InterviewSlot(
        interview_id=interview.id,
        title=title,
        starts_at=interview.starts_at,
        ends_at=interview.ends_at,
        interviewer_email=person.email,
        interviewer_name=person.name,
        organizer_email=settings.email_from,
        sequence=interview.calendar_sequence,
        link=link,
        updated_at=interview.updated_at,
    )


def _notify(session: Session, event: OutboxEvent, tell: Tell, settings: Settings) -> None:
    preference = email_preference(session, tell.user.id)
    digest = preference == "daily_digest" or (preference == "off" and event.type in MANDATORY)
    notification = Notification(
        user_id=tell.user.id,
        event_id=event.id,
        type=event.type,
        title=tell.item.title,
        body=tell.item.body,
        path=tell.item.link.removeprefix(settings.public_base_url),
        digest_pending=digest and tell.user.active,
    )
    session.add(notification)
    if preference == "immediately" and tell.user.active:
        _store_email(session, tell.user, tell.item.title, [tell.item], False, tell.calendar)


def _store_email(
    session: Session,
    user: User,
    subject: str,
    items: list[Item],
    digest: bool,
    calendar: str | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Store the email and enqueue its sending; False when `dedupe_key` was used already
    (another digest pass made it; one running at the same moment fails on the unique
    index and changes nothing)."""
    if dedupe_key is not None and session.scalar(
        select(EmailMessage.id).where(EmailMessage.dedupe_key == dedupe_key)
    ):
        return False
    text, html = render_bodies(user.name, items, digest)
    message = EmailMessage(
        user_id=user.id,
        to_address=user.email,
        subject=subject[:300],
        text_body=text,
        html_body=html,
        calendar=calendar,
        dedupe_key=dedupe_key,
    )
    session.add(message)
    session.flush()
    _enqueue_send(session, message)
    return True


def _enqueue_send(session: Session, message: EmailMessage) -> None:
    jobs.enqueue_after_commit(
        session,
        SEND_EMAIL_JOB,
        message.id,
        queue_name=EVENTS_QUEUE,
        job_id=f"email-{message.id}",
        retry=jobs.transient_retry(),
    )


def _derive(session: Session, event: OutboxEvent) -> None:
    """Events and jobs that follow from another. A submitted scorecard asks for the
    calibration refresh and its application's packet preparation, enqueued after the
    dispatch commits (the submission enqueues only this dispatch, one job instead of
    three: BENCHMARKS.md, "Issue 18: the submission, second pass"; and a submission
    committed while Redis was away gets them from the sweep). The last scorecard in
    completes the loop (once per set of submitted interviews, whatever the number of
    dispatchers)."""
    if event.type != "scorecard.submitted":
        return
    application_id = event.data["application_id"]
    jobs.refresh_calibration_after_commit(session)
    jobs.prepare_packets_after_commit(session, application_id)
    facts = [
        f for f in interview_facts(session, application_id) if f.status in ACTIVE_INTERVIEW_STATUSES
    ]
    if facts and all(f.scorecard == "submitted" for f in facts):
        ids = ",".join(str(f.id) for f in sorted(facts, key=lambda f: f.id))
        emit_event(
            session,
            "loop.completed",
            {"application_id": application_id, "interview_ids": [f.id for f in facts]},
            dedupe_key=f"loop.completed:{application_id}:{ids}"[:200],
        )


def _stuck_items(session: Session, settings: Settings, recruiter_id: int) -> list[Item]:
    """The recruiter's own stuck applications: of the requisitions they run, and of
    those nobody has been assigned to."""
    templates = {v.id: v.template() for v in template_versions(session)}
    _, sla = stage_maps(templates.items())
    owned = ApplicationFilters(recruiter_or_unassigned=recruiter_id)
    _, rows = overdue_applications(session, sla, owned, utcnow(), limit=50)
    return [
        Item(
            f"Application {row.id} ({row.title}) is past its target in '{row.stage}'",
            f"In the stage since {row.stage_entered_at:%d %B %Y}; move it on or close it.",
            _link(settings, f"/applications/{row.id}"),
        )
        for row in rows
    ]


def _item(notification: Notification, settings: Settings) -> Item:
    return Item(notification.title, notification.body, _link(settings, notification.path))


def _link(settings: Settings, path: str) -> str:
    return settings.public_base_url + path
