"""Answers security questions with the vendor's own checksheet rows, verbatim and cited."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("checksheet-assistant")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"
