"""A stale report snapshot enqueues one refresh on real Redis, however many page views
find it stale, and a real worker process stores the new report."""

from datetime import timedelta

from sqlalchemy import update

from service import jobs
from service.extensions import db
from service.persistence.report_snapshots import ReportSnapshot, read_snapshot
from service.usecases.users import create_user
from tests.integration.conftest import start_worker
from tests.web.conftest import signed_in_page_session

PAGES = {"interviewers": "/admin/calibration", "adverse_impact-10-5": "/admin/adverse-impact"}


def test_stale_views_enqueue_one_refresh_each_that_a_real_worker_runs(live_app):
    session = db.session
    admin, _ = create_user(session, "admin@example.com", "Avery", "admin")
    client = live_app.test_client()
    signed_in_page_session(client, admin)
    for path in PAGES.values():  # no snapshot yet: computed in the request
        assert client.get(path).status_code == 200
    stale = {}
    for key in PAGES:  # an hour old: past the default max age of 5 minutes
        computed_at = read_snapshot(session, key).computed_at - timedelta(hours=1)
        session.execute(
            update(ReportSnapshot).where(ReportSnapshot.key == key).values(computed_at=computed_at)
        )
        stale[key] = computed_at
    session.commit()

    for _ in range(3):
        for path in PAGES.values():
            page = client.get(path)
            assert page.status_code == 200
            assert "(60 minutes ago)" in page.get_data(as_text=True)
    waiting = sorted(job.id for job in jobs.queue().get_jobs())
    assert waiting == [f"report-snapshot-{key}" for key in sorted(PAGES)]
    session.close()  # end our read transaction: SQLite would make the worker wait for it

    worker = start_worker(live_app, "--burst")
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output

    for key, path in PAGES.items():
        refreshed = read_snapshot(session, key)
        assert refreshed.computed_at > stale[key], key
        assert refreshed.refresh_requested_at is None, key
        html = client.get(path).get_data(as_text=True)
        assert "less than a minute ago" in html and "Newer figures" not in html, key
    assert jobs.queue().get_jobs() == []
