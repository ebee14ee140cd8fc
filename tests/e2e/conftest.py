"""A Bugsink server per test session (make test installs it into .venv-bugsink)."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.bugsink import Bugsink


def bugsink_venv() -> Path:
    """The Bugsink virtualenv; e2e tests are skipped only when it was never installed."""
    venv = os.environ.get("BUGSINK_VENV")
    if not venv:
        pytest.skip("BUGSINK_VENV is not set: run the suite with `make test`")
    return Path(venv)


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bugsink]:
    """A started Bugsink with quotas out of the way."""
    server = Bugsink(bugsink_venv(), tmp_path_factory.mktemp("bugsink")).start()
    try:
        yield server
    finally:
        server.stop()
