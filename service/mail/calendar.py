"""iCalendar invitations for interviews: one UID per interview, a higher SEQUENCE on
every change, METHOD:CANCEL when it is cancelled or moved to someone else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText


@dataclass(frozen=True)
class InterviewSlot:
    interview_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    interviewer_email: str
    interviewer_name: str
    organizer_email: str
    sequence: int
    link: str
    updated_at: datetime


def interview_uid(interview_id: int, organizer_email: str) -> str:
    return f"interview-{interview_id}@{organizer_email.rpartition('@')[2] or 'localhost'}"


def invitation(slot: InterviewSlot, cancelled: bool) -> str:
    """The VCALENDAR text (METHOD:REQUEST, or CANCEL with STATUS:CANCELLED)."""
    calendar = Calendar()
    calendar.add("prodid", "-//hiring-pipeline//interviews//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", interview_uid(slot.interview_id, slot.organizer_email))
    event.add("sequence", slot.sequence)
    event.add("dtstamp", slot.updated_at)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", slot.title)
    event.add("description", f"Interview kit and scorecard: {slot.link}")
    event.add("url", slot.link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{slot.organizer_email}")
    organizer.params["cn"] = vText("hiring-pipeline")
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{slot.interviewer_email}")
    attendee.params["cn"] = vText(slot.interviewer_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("NEEDS-ACTION")
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    text: str = calendar.to_ical().decode()
    return text
