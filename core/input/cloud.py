"""Dumps in object storage: `s3://`, `gs://` and `az://` paths through obstore (SPEC §3.1).

obstore (Rust's object_store) reads each provider's usual credentials from the environment:
AWS_* (with AWS_ENDPOINT_URL for S3-compatible stores such as MinIO or SeaweedFS, and
AWS_ALLOW_HTTP for a plain-HTTP one), GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*. With
AWS_PROFILE set, S3 credentials come from that profile through boto3 (shared credentials and
config files, SSO, assumed roles), as the AWS CLI reads them. It retries
listings and reads on transient errors (object_store's default: up to 10 times, 3 minutes). An
object is streamed in 1 MiB ranges, so memory does not grow with its size. obstore is the
optional extra `rudder-sentry[cloud]`; without it an object-storage path is a usage error.
"""

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.config import mask_dsn
from core.errors import UsageError

SCHEMES = ("s3://", "gs://", "az://")
READ_SIZE = 1 << 20  # bytes per ranged read of an object
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
        """The parts of an object-storage URL; raises UsageError without a bucket."""
        scheme, _, rest = url.partition("://")
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise UsageError(f"{url}: no bucket in the path")
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
        found = from_url(f"{where.scheme}://{where.bucket}", **options)
        _STORES[(where.scheme, where.bucket)] = found
    return found


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


def open_object(url: str) -> io.BufferedReader:
    """A stream over one object, read in ranges as it is consumed."""
    where = CloudPath.parse(url)
    import obstore

    try:
        reader = obstore.open_reader(_store(where), where.key, buffer_size=READ_SIZE)
    except Exception as exc:
        raise OSError(f"cannot open: {_one_line(exc)}") from exc
    return io.BufferedReader(_ObjectStream(reader), READ_SIZE)


class _ObjectStream(io.RawIOBase):
    """obstore's reader as a raw binary stream whose errors are OSErrors (a read that fails
    mid-object ends that file as `truncated_input`)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def readable(self) -> bool:
        return True

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
