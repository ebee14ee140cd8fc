"""Dumps in object storage: `s3://`, `gs://` and `az://` paths through obstore (docs/input.md,
"Object storage").

obstore (Rust's object_store) reads each provider's usual credentials from the environment:
AWS_* (with AWS_ENDPOINT_URL for S3-compatible stores such as MinIO or SeaweedFS, and
AWS_ALLOW_HTTP for a plain-HTTP one), GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*. With
AWS_PROFILE set, S3 credentials come from that profile through boto3 (shared credentials and
config files, SSO, assumed roles), as the AWS CLI reads them. Every request has a connect
timeout and a timeout per read, and is retried on transient errors for at most a minute, so a
store that stalls is a one-line error naming the object (a listing: before anything is read; a
read: that object's `truncated_input`), never a hang; the run's reads wait in a thread of their
own meanwhile (core/input/background.py). An object is streamed in 1 MiB ranges, so memory does
not grow with its size. obstore is the optional extra `rudder-sentry[cloud]`; without it an
object-storage path is a usage error.
"""

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.config import mask_dsn
from core.errors import UsageError

SCHEMES = ("s3://", "gs://", "az://")
READ_SIZE = 1 << 20  # bytes per ranged read of an object
CLIENT_OPTIONS: Any = {
    "connect_timeout": timedelta(seconds=10),
    "read_timeout": timedelta(seconds=30),
}
RETRY_CONFIG: Any = {"max_retries": 3, "retry_timeout": timedelta(seconds=60)}
# The providers' bucket (container) names: lowercase letters, digits, dots and hyphens (S3 and
# GCS; Azure containers take no dot), 3 to 63 of them, a letter or digit at each end.
_BUCKET = {
    "s3": re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
    "gs": re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]"),
    "az": re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"),
}
INSTALL = "object-storage paths need the cloud extra: pip install 'rudder-sentry[cloud]'"


def is_cloud(path: str) -> bool:
    """Whether `path` names a bucket, a prefix or an object in object storage."""
    return path.startswith(SCHEMES)


@dataclass(frozen=True, slots=True)
class CloudPath:
    """`<scheme>://<bucket>/<key>`."""

    scheme: str
    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> "CloudPath":
        """The parts of an object-storage URL; raises UsageError (one line, the URL masked)
        for one that names no bucket by the provider's rules, or carries a query, a fragment,
        a port or credentials (which would otherwise be read as part of a name)."""
        scheme, _, rest = url.partition("://")
        bucket, _, key = rest.partition("/")
        shown = mask_dsn(url)
        if any(mark in url for mark in "?#") or "@" in bucket:
            raise UsageError(f"{shown}: no query, fragment or credentials in a bucket URL")
        if not _BUCKET[scheme].fullmatch(bucket) or ".." in bucket:
            raise UsageError(
                f"{shown}: {bucket!r} is not a bucket name (3 to 63 lowercase letters, digits, "
                "dots or hyphens, no port)"
            )
        if any(part in (".", "..") for part in key.split("/")):
            raise UsageError(f"{shown}: . and .. are not object names")
        return cls(scheme, bucket, key)

    def url(self, key: str) -> str:
        """The URL of another key of the same bucket."""
        return f"{self.scheme}://{self.bucket}/{key}"


_STORES: dict[tuple[str, str], Any] = {}


def _store(where: CloudPath) -> Any:
    try:
        from obstore.store import from_url
    except ImportError:
        raise UsageError(INSTALL) from None
    found = _STORES.get((where.scheme, where.bucket))
    if found is None:
        options: dict[str, Any] = {}
        if where.scheme == "s3" and uses_aws_profile(os.environ):
            options["credential_provider"] = _profile_credentials()
        found = from_url(
            f"{where.scheme}://{where.bucket}",
            client_options=client_options(where.scheme, os.environ),
            retry_config=RETRY_CONFIG,
            **options,
        )
        _STORES[(where.scheme, where.bucket)] = found
    return found


def client_options(scheme: str, environment: Mapping[str, str]) -> Any:
    """The HTTP client's timeouts; and plain HTTP where the environment allows it (client
    options given in code replace the environment's, AWS_ALLOW_HTTP among them)."""
    options: dict[str, Any] = dict(CLIENT_OPTIONS)
    flag = {"s3": "AWS_ALLOW_HTTP", "az": "AZURE_ALLOW_HTTP", "gs": "GOOGLE_ALLOW_HTTP"}[scheme]
    if environment.get(flag, "").strip().lower() in ("1", "true", "yes"):
        options["allow_http"] = True
    return options


def uses_aws_profile(environment: Mapping[str, str]) -> bool:
    """S3 credentials come from a named profile (AWS_PROFILE) unless keys are set outright."""
    if environment.get("AWS_ACCESS_KEY_ID"):
        return False
    return bool(environment.get("AWS_PROFILE") or environment.get("AWS_DEFAULT_PROFILE"))


def _profile_credentials() -> Any:
    try:
        from obstore.auth.boto3 import Boto3CredentialProvider
    except ImportError:
        raise UsageError(f"AWS_PROFILE is set: {INSTALL} (it brings boto3)") from None
    return Boto3CredentialProvider()


def list_objects(url: str) -> list[str]:
    """The URLs of every object under `url` (a prefix), or `url` itself when it names one
    object. Raises UsageError, one line, for a missing bucket, denied access or no network."""
    where = CloudPath.parse(url)
    try:
        import obstore

        store = _store(where)
        if where.key and not where.key.endswith("/"):
            try:
                obstore.head(store, where.key)
            except FileNotFoundError:
                pass
            else:
                return [url]
        prefix = where.key.rstrip("/") or None
        return [where.url(meta["path"]) for batch in obstore.list(store, prefix) for meta in batch]
    except UsageError:
        raise
    except Exception as exc:  # obstore's errors: a missing bucket, credentials, the network
        raise UsageError(f"{url}: cannot list: {_one_line(exc)}") from exc


def open_object(url: str) -> io.RawIOBase:
    """A stream over one object, read in ranges as it is consumed (unbuffered: its reads run
    in a thread of their own, and a buffer's lock would hold its closing)."""
    where = CloudPath.parse(url)
    import obstore

    try:
        reader = obstore.open_reader(_store(where), where.key, buffer_size=READ_SIZE)
    except Exception as exc:
        raise OSError(f"cannot open: {_one_line(exc)}") from exc
    return _ObjectStream(reader)


class _ObjectStream(io.RawIOBase):
    """obstore's reader as a raw binary stream whose errors are OSErrors (a read that fails
    mid-object ends that file as `truncated_input`)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (no copy through a buffer: obstore hands its own)."""
        try:
            data = self._reader.read(size if size >= 0 else None)
        except Exception as exc:
            raise OSError(f"read failed: {_one_line(exc)}") from exc
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._reader.read(len(view))
        except Exception as exc:
            raise OSError(f"read failed: {_one_line(exc)}") from exc
        size = len(data)
        view[:size] = memoryview(data)
        return size

    def close(self) -> None:
        try:
            self._reader.close()
        finally:
            super().close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_dsn(text[0] if text else type(exc).__name__)
