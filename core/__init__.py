"""rudder-sentry engine: reading, config, filtering, mapping, delivery, state. No UI code here."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rudder-sentry")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from core.native import install

install()  # the compiled hot path, when built from these very sources (core/native.py)
