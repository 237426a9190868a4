"""ismap-scan: scan live cloud configuration, map results to ISMAP controls, keep them as evidence."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ismap-scan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
