"""Packets in an S3-compatible bucket: the storage against a real S3 server on loopback
(moto's standalone server), and a real worker rendering into it end to end."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace

import boto3
import pytest

from service.domain.errors import ConflictError
from service.extensions import db, init_storage
from service.persistence.packets import Packet
from service.persistence.users import User
from service.storage import ChecksumMismatchError, FileMissingError, S3Storage
from service.usecases import applications, data_protection, packets
from service.usecases.users import create_user, issue_token
from tests.integration.conftest import start_worker

KEY = "applications/7/packet-1-0123456789ab.pdf"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def storage(s3_endpoint, s3_bucket):
    return S3Storage(f"s3://{s3_bucket}/hiring/packets", endpoint_url=s3_endpoint)


def objects(s3_endpoint, bucket):
    listing = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_put_get_delete_under_the_prefix(storage, s3_endpoint, s3_bucket):
    data = b"%PDF-1.7 a packet"
    storage.put(KEY, data, sha(data))
    assert storage.get(KEY) == data
    assert objects(s3_endpoint, s3_bucket) == [f"hiring/packets/{KEY}"]
    assert storage.describe(KEY) == f"s3://{s3_bucket}/hiring/packets/{KEY}"

    storage.delete(KEY)
    assert objects(s3_endpoint, s3_bucket) == []
    with pytest.raises(FileMissingError):
        storage.get(KEY)
    storage.delete(KEY)  # already gone: erasure may run twice


def test_data_that_does_not_match_its_sha256_is_refused_and_nothing_is_stored(
    storage, s3_endpoint, s3_bucket
):
    with pytest.raises(ChecksumMismatchError):
        storage.put(KEY, b"%PDF-1.7 truncated", sha(b"%PDF-1.7 truncated and more"))
    assert objects(s3_endpoint, s3_bucket) == []


@pytest.mark.parametrize("key", ["../escape.pdf", "/absolute.pdf", "a/./b.pdf", ""])
def test_keys_that_are_not_plain_relative_paths_are_refused(storage, key):
    with pytest.raises(ValueError, match="plain relative path"):
        storage.put(key, b"x", sha(b"x"))


def test_concurrent_writers_of_one_packet_leave_one_whole_object(storage):
    """Eight writers of the same key, a reader beside them: every read is a whole payload
    (or none yet), a writer whose object was replaced by other bytes says so, and the
    object left is one of the payloads whole."""
    payloads = [bytes([65 + n]) * 300_000 for n in range(2)]  # big enough for a slow upload
    barrier = threading.Barrier(9)
    outcomes: list[str] = []
    reads: list[bytes | None] = []
    done = threading.Event()

    def write(data: bytes) -> None:
        barrier.wait()
        try:
            storage.put(KEY, data, sha(data))
            outcomes.append("stored")
        except ChecksumMismatchError:
            outcomes.append("replaced by another writer")

    def read() -> None:
        barrier.wait()
        while not done.is_set():
            try:
                reads.append(storage.get(KEY))
            except FileMissingError:
                reads.append(None)

    writers = [threading.Thread(target=write, args=(payloads[n % 2],)) for n in range(8)]
    reader = threading.Thread(target=read)
    for thread in [*writers, reader]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join()

    assert len(outcomes) == 8 and "stored" in outcomes
    assert reads and all(data is None or data in payloads for data in reads)
    assert storage.get(KEY) in payloads


def test_concurrent_writers_of_the_same_bytes_all_succeed(storage):
    """A packet's bytes are the same for the same content, digest and version, so two
    workers rendering it at once (a reaped lease, a retry) both succeed."""
    data = b"%PDF-1.7 " + b"same" * 50_000
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def write() -> None:
        barrier.wait()
        try:
            storage.put(KEY, data, sha(data))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert storage.get(KEY) == data


def test_delete_removes_every_version_in_a_versioned_bucket(storage, s3_endpoint, s3_bucket):
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    for data in (b"%PDF first render", b"%PDF second render"):
        storage.put(KEY, data, sha(data))
    storage.delete(KEY)
    versions = client.list_object_versions(Bucket=s3_bucket)
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []


@pytest.fixture
def live_app(live_app, s3_endpoint, s3_bucket):
    """The live app (real Redis, committed SQLite) with its packets in the test bucket."""
    settings = replace(
        live_app.config["SETTINGS"],
        packet_storage_url=f"s3://{s3_bucket}/packets",
        s3_endpoint_url=s3_endpoint,
    )
    live_app.config["SETTINGS"] = settings
    init_storage(live_app, settings)
    return live_app


def test_a_worker_renders_to_s3_the_api_serves_it_and_erasure_removes_it(
    live_app, submitted_loop, s3_endpoint, s3_bucket
):
    application_id, manager_id = submitted_loop
    with db.new_session() as session:
        manager = session.get(User, manager_id)
        packet_id = packets.request_packet(session, manager, application_id, False).id

    worker = start_worker(
        live_app,
        "--burst",
        env={"PACKET_STORAGE_URL": f"s3://{s3_bucket}/packets", "S3_ENDPOINT_URL": s3_endpoint},
    )
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output

    with db.new_session() as session:
        packet = session.get(Packet, packet_id)
        assert packet.status == "ready", packet.error
        key = packet.storage_key
    assert objects(s3_endpoint, s3_bucket) == [f"packets/{key}"]

    # The download goes through the app (its access checks and audit), never a bucket URL.
    with db.new_session() as session:
        admin, _ = create_user(session, "admin@example.com", "Admin", "admin")
        token = issue_token(session, admin, manager_id).plain
    with live_app.app_context():  # its own, so the request's session ends with it
        pdf = live_app.test_client().get(
            f"/api/v1/packets/{packet_id}/pdf", headers={"Authorization": f"Bearer {token}"}
        )
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert pdf.headers["ETag"] == f'"{sha(pdf.data)}"'

    # Bytes changed behind the app's back are refused against the stored sha256.
    boto3.client("s3", endpoint_url=s3_endpoint).put_object(
        Bucket=s3_bucket, Key=f"packets/{key}", Body=b"%PDF-1.7 not the packet"
    )
    with db.new_session() as session, pytest.raises(ConflictError) as refused:
        packets.read_packet_pdf(
            session, session.get(User, manager_id), live_app.extensions["storage"], packet_id
        )
    assert refused.value.extra["packet_status"] == "corrupt_file"

    with db.new_session() as session:
        recruiter = session.query(User).filter_by(role="recruiter").one()
        application = applications.change_status(
            session, recruiter, application_id, "withdraw", reason="Took another offer"
        )
        admin = session.query(User).filter_by(role="admin").one()
        data_protection.erase_candidate(
            session,
            admin,
            application.candidate_id,
            "The candidate asked by email.",
            live_app.extensions["storage"],
        )
    assert objects(s3_endpoint, s3_bucket) == []
