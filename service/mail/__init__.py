"""Email: plain-text and HTML bodies from our own templates, iCalendar invitations, and
the transport (SMTP when `SMTP_URL` is set, otherwise the log and `instance/outbox/`)."""
