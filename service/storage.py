"""Where packet files live: a folder (`LocalStorage`) or an S3-compatible bucket
(`S3Storage`), behind one small interface.

Both give the same guarantees: a reader sees a whole file or none (never a half-written
one), `put` returns only once the file is durable and refuses data that does not match
the sha256 it is given, and `delete` of a file already gone is not an error (erasure
may run twice). The reader checks the bytes against the packet's stored sha256.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit


class FileMissingError(FileNotFoundError):
    """The stored file is gone."""


class ChecksumMismatchError(ValueError):
    """The data is not what its sha256 says: refused, nothing is stored as it."""


class StorageUnavailableError(OSError):
    """The storage did not answer (after the client's own retries); worth trying again."""


class PacketStorage(Protocol):
    def put(self, key: str, data: bytes, sha256: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def describe(self, key: str) -> str: ...


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refuse_mismatch(key: str, data: bytes, sha256: str) -> None:
    if sha256_of(data) != sha256:
        raise ChecksumMismatchError(f"{key}: the data does not match its sha256 {sha256}")


class LocalStorage:
    """Files under one folder, written atomically: temporary file, fsync, rename."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def put(self, key: str, data: bytes, sha256: str) -> None:
        _refuse_mismatch(key, data, sha256)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # make the rename itself durable
        finally:
            os.close(directory)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise FileMissingError(key) from error

    def delete(self, key: str) -> None:
        """Remove the file; one already gone is not an error (erasure may run twice)."""
        self._path(key).unlink(missing_ok=True)

    def describe(self, key: str) -> str:
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional prefix.

    A PUT is atomic on S3: the object appears whole when the upload completes, and the
    answer comes only once it is stored durably. The sha256 travels with the upload
    (`x-amz-checksum-sha256`, which S3 and most compatible servers verify, refusing a
    damaged body) and in the object's metadata; a HEAD after the PUT confirms that the
    object others will read is this one, so the packet is marked ready only then.
    A GET asks the server to have its stored checksum checked by the client too.

    Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, a shared profile, an instance role); `endpoint_url` points
    at a server other than AWS (MinIO, Ceph, a cloud's S3-compatible service).
    """

    def __init__(self, url: str, *, endpoint_url: str | None = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.endpoint_url = endpoint_url
        self._clients: dict[int, Any] = {}
        self._lock = threading.Lock()

    def put(self, key: str, data: bytes, sha256: str) -> None:
        _refuse_mismatch(key, data, sha256)
        name = self._name(key)
        with _s3_errors(key):
            self._client().put_object(
                Bucket=self.bucket,
                Key=name,
                Body=data,
                ContentType="application/pdf",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                Metadata={"sha256": sha256},
            )
            head = self._client().head_object(Bucket=self.bucket, Key=name)
        if head["ContentLength"] != len(data) or head["Metadata"].get("sha256") != sha256:
            # Another writer replaced it meanwhile with other bytes: not ours to mark ready.
            raise ChecksumMismatchError(f"{key}: the stored object is not the one written")

    def get(self, key: str) -> bytes:
        with _s3_errors(key):
            answer = self._client().get_object(
                Bucket=self.bucket, Key=self._name(key), ChecksumMode="ENABLED"
            )
            data: bytes = answer["Body"].read()
            return data

    def delete(self, key: str) -> None:
        """Remove the object and, in a versioned bucket, every earlier version of it: an
        erased candidate's packet must not survive as a noncurrent version. One already
        gone is not an error."""
        name = self._name(key)
        client = self._client()
        with _s3_errors(key):
            client.delete_object(Bucket=self.bucket, Key=name)
            pages = client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=name
            )
            for page in pages:
                for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if version["Key"] == name and version["VersionId"] != "null":
                        client.delete_object(
                            Bucket=self.bucket, Key=name, VersionId=version["VersionId"]
                        )

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def _name(self, key: str) -> str:
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise ValueError(f"storage key is not a plain relative path: {key!r}")
        return f"{self.prefix}{key}"

    def _client(self) -> Any:
        """One client per process: a forked RQ work horse must not share the parent's
        connection pool."""
        pid = os.getpid()
        with self._lock:
            if pid not in self._clients:
                import boto3
                from botocore.config import Config

                self._clients = {
                    pid: boto3.client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        config=Config(
                            connect_timeout=5,
                            read_timeout=30,
                            retries={"mode": "standard", "max_attempts": 3},
                        ),
                    )
                }
            return self._clients[pid]


@contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """botocore's errors as the storage's: a missing object, a refused checksum, or the
    storage unavailable (no answer, or a server error after botocore's retries)."""
    from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("NoSuchKey", "404", "NotFound"):
            raise FileMissingError(key) from error
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            raise ChecksumMismatchError(f"{key}: the storage refused the checksum") from error
        if status >= 500:
            raise StorageUnavailableError(f"{key}: {code or status}") from error
        raise
    except FlexibleChecksumError as error:  # the body failed its checksum on the way back
        raise ChecksumMismatchError(f"{key}: {error}") from error
    except BotoCoreError as error:  # no answer at all: connection refused, timeout
        raise StorageUnavailableError(f"{key}: {error}") from error


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket[/prefix]` → (bucket, prefix ending in "/" or empty). Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an s3://bucket[/prefix] URL: {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""
