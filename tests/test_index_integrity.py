"""An index proves its integrity (issue 16, findings 2, 3 and 5): a changed, damaged or crafted file in the index
folder is never loaded; the index is rebuilt, or ``--no-build`` gets an IndexStaleError naming the file."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from assistant.corpus import load_corpus
from assistant.embedding import load_embedder
from assistant.errors import IndexStaleError
from assistant.index import build_index, integrity, open_index, stale_reasons
from assistant.index.folder import StoredIndex
from assistant.index.integrity import hash_file
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import TINY_ROWS

ISO_ROW = "- Acme is ISO/IEC 27001 certified since 2024."


def _build(settings: Settings) -> StoredIndex:
    return build_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings))


def _file(settings: Settings, name: str) -> Path:
    """A file of the index being served (``index/current/<name>``)."""
    return settings.index_dir / "current" / name


def _open(settings: Settings, *, rebuild: bool) -> StoredIndex:
    return open_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings), rebuild=rebuild)


def _forge(settings: Settings) -> None:
    """Re-stamp the manifest after files were changed, as someone who also rewrites the manifest would."""
    version = (settings.index_dir / "current").resolve()
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        stamp, digest = hash_file(version / name, sha256=name == "rows.jsonl")
        manifest["files"][name] = stamp.model_dump()
        if digest is not None:
            manifest["rows_sha256"] = digest
    (version / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    token = hashlib.sha256((version / "manifest.json").read_bytes()).hexdigest()[:16]
    forged = version.with_name(version.name.rsplit("-", 1)[0] + "-" + token)
    version.rename(forged)
    link = settings.index_dir / "current"
    link.unlink()
    link.symlink_to(forged.name)


def _assert_refused_then_rebuilt(settings: Settings, name: str) -> None:
    with pytest.raises(IndexStaleError, match=name.replace(".", r"\.")):
        _open(settings, rebuild=False)
    reasons = stale_reasons(settings, load_corpus(settings.corpus_dir), load_embedder(settings))
    assert reasons, "a damaged index must not be 'up to date'"
    rebuilt = _open(settings, rebuild=True)
    assert rebuilt.manifest.rows == TINY_ROWS
    assert rebuilt.rows[0].source_text == ISO_ROW
    assert stale_reasons(settings, load_corpus(settings.corpus_dir), load_embedder(settings)) == []


def test_an_edited_row_is_refused_and_the_index_rebuilt(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    rows = _file(hashing_settings, "rows.jsonl")
    text = rows.read_text(encoding="utf-8")
    assert "Acme is ISO/IEC 27001 certified since 2024." in text
    rows.write_text(text.replace("Acme is ISO/IEC 27001 certified", "Acme is NOT ISO/IEC 27001 certified"), "utf-8")
    _assert_refused_then_rebuilt(hashing_settings, "rows.jsonl")


def test_an_edited_row_with_a_rewritten_manifest_still_never_loads(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    rows = _file(hashing_settings, "rows.jsonl")
    rows.write_text(rows.read_text(encoding="utf-8").replace("certified since", "NOT certified since"), "utf-8")
    _forge(hashing_settings)  # the manifest now vouches for the edited rows; the corpus does not
    with pytest.raises(IndexStaleError, match="rows changed"):
        _open(hashing_settings, rebuild=False)
    assert _open(hashing_settings, rebuild=True).rows[0].source_text == ISO_ROW


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[:100] + bytes(len(data) - 200) + data[-100:], id="garbled"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data + b"\0" * 64, id="extended"),
    ],
)
def test_a_garbled_truncated_or_extended_faiss_file_is_refused(
    hashing_settings: Settings, damage: Callable[[bytes], bytes]
) -> None:
    _build(hashing_settings)
    path = _file(hashing_settings, "index.faiss")
    path.write_bytes(damage(path.read_bytes()))
    _assert_refused_then_rebuilt(hashing_settings, "index.faiss")


def test_a_replaced_faiss_file_is_refused(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    path = _file(hashing_settings, "index.faiss")
    vectors = np.random.default_rng(0).standard_normal((TINY_ROWS, 512)).astype(np.float32)
    other = faiss.IndexFlatIP(512)
    other.add(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    faiss.write_index(other, str(path))  # the same shape, other vectors: top results would change
    _assert_refused_then_rebuilt(hashing_settings, "index.faiss")


def test_a_faiss_file_of_another_dimension_is_refused_even_with_a_rewritten_manifest(
    hashing_settings: Settings,
) -> None:
    _build(hashing_settings)
    other = faiss.IndexFlatIP(256)
    other.add(np.eye(TINY_ROWS, 256, dtype=np.float32))
    faiss.write_index(other, str(_file(hashing_settings, "index.faiss")))
    _forge(hashing_settings)
    with pytest.raises(IndexStaleError, match=r"index\.faiss"):
        Assistant.load(hashing_settings, rebuild=False)
    assert Assistant.load(hashing_settings).ask("Are backups encrypted?").status == "answered"


def _eight_gib_header(path: Path, rows: int, dimension: int) -> None:
    """Make ``path`` a 1 MB copy of the flat index it holds whose vector-length field claims 8 GiB."""
    data = bytearray(path.read_bytes())
    at = len(data) - rows * dimension * 4 - 8  # FAISS writes a flat index's float count right before the floats
    assert data[at : at + 8] == struct.pack("<Q", rows * dimension)
    data[at : at + 8] = struct.pack("<Q", 2**31)  # 2**31 floats: 8 GiB
    path.write_bytes(bytes(data[: 2**20]).ljust(2**20, b"\0"))


@pytest.mark.parametrize("forged", [False, True], ids=["manifest kept", "manifest rewritten"])
def test_a_faiss_header_claiming_8_gib_is_never_read(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, forged: bool
) -> None:
    _build(hashing_settings)
    _eight_gib_header(_file(hashing_settings, "index.faiss"), TINY_ROWS, 512)
    if forged:
        _forge(hashing_settings)
    read: list[str] = []
    real_read = faiss.read_index

    def spy(path: str, *args: int) -> object:
        if Path(path).stat().st_size == 2**20:  # the crafted file: reading it would allocate 8 GiB
            read.append(path)
            raise RuntimeError("the test refuses to let FAISS read the crafted file")
        return real_read(path, *args)

    monkeypatch.setattr(faiss, "read_index", spy)
    with pytest.raises(IndexStaleError, match=r"index\.faiss"):
        _open(hashing_settings, rebuild=False)
    assert read == []
    assert _open(hashing_settings, rebuild=True).manifest.rows == TINY_ROWS


@pytest.mark.parametrize("how", ["zeroed", "truncated"])
def test_damaged_lexical_files_are_refused_not_raised_at_every_question(hashing_settings: Settings, how: str) -> None:
    _build(hashing_settings)
    damaged = sorted(p for p in _file(hashing_settings, "x").parent.glob("lexical*") if p.suffix != ".json")
    assert damaged
    for path in damaged:
        size = path.stat().st_size
        path.write_bytes(bytes(size) if how == "zeroed" else path.read_bytes()[: size // 2])
    with pytest.raises(IndexStaleError, match="lexical"):
        Assistant.load(hashing_settings, rebuild=False)
    assert Assistant.load(hashing_settings).ask("Are backups encrypted?").status == "answered"


def test_a_shuffled_vocabulary_is_refused(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    path = _file(hashing_settings, "lexical_vocabulary.json")
    vocabulary = json.loads(path.read_text(encoding="utf-8"))
    terms, rows = list(vocabulary), list(vocabulary.values())
    path.write_text(json.dumps(dict(zip(terms, rows[1:] + rows[:1], strict=True)), ensure_ascii=False), "utf-8")
    _assert_refused_then_rebuilt(hashing_settings, "lexical_vocabulary.json")


def test_shifted_language_means_are_refused(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    path = _file(hashing_settings, "language_means.json")
    means = json.loads(path.read_text(encoding="utf-8"))
    means["passage"]["en"] = [x + 0.05 for x in means["passage"]["en"]]
    path.write_text(json.dumps(means), encoding="utf-8")
    _assert_refused_then_rebuilt(hashing_settings, "language_means.json")


def test_every_file_truncated_is_refused_by_name(hashing_settings: Settings) -> None:
    version = _build(hashing_settings).path
    names = sorted(p.name for p in version.iterdir())
    assert "manifest.json" in names
    for name in names:
        _build(hashing_settings)
        path = _file(hashing_settings, name)
        path.write_bytes(path.read_bytes()[:-1])
        with pytest.raises(IndexStaleError, match=name.replace(".", r"\.")):
            _open(hashing_settings, rebuild=False)
        assert _open(hashing_settings, rebuild=True).manifest.rows == TINY_ROWS


def test_a_file_added_to_the_index_folder_is_refused(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    _file(hashing_settings, "notes.txt").write_text("left here by someone", encoding="utf-8")
    _assert_refused_then_rebuilt(hashing_settings, "notes.txt")


def test_a_current_link_pointing_outside_the_index_folder_is_refused(hashing_settings: Settings) -> None:
    built = _build(hashing_settings)
    outside = hashing_settings.index_dir.parent / "elsewhere"
    built.path.rename(outside)
    link = hashing_settings.index_dir / "current"
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(IndexStaleError, match="not at a version folder inside"):
        _open(hashing_settings, rebuild=False)


def _count_hashing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files hashed from now on (until the monkeypatch is undone), in a list kept up to date."""
    hashed: list[str] = []
    check = integrity._check

    def counting(path: Path, stamp: integrity.FileStamp, sha256: str | None) -> None:
        hashed.append(path.name)
        check(path, stamp, sha256)

    monkeypatch.setattr(integrity, "_check", counting)
    return hashed


def _hashed_on_open(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files hashed while opening the index once."""
    check = integrity._check
    hashed = _count_hashing(monkeypatch)
    _open(settings, rebuild=False).close()
    monkeypatch.setattr(integrity, "_check", check)
    return hashed


def test_an_index_opened_again_hashes_only_the_files_written_since(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "RACY_NS", 0)  # the files were written just now: record them anyway
    _build(hashing_settings)
    files = set(_open(hashing_settings, rebuild=False).manifest.files) - {"manifest.json"}
    assert set(_hashed_on_open(hashing_settings, monkeypatch)) <= files
    assert _hashed_on_open(hashing_settings, monkeypatch) == []
    rows = _file(hashing_settings, "rows.jsonl")
    text = rows.read_text(encoding="utf-8")
    rows.write_text(text.replace("certified since 2024", "certified since 2014"), "utf-8")  # the same size
    with pytest.raises(IndexStaleError, match=r"rows\.jsonl does not hash"):
        _open(hashing_settings, rebuild=False)
    rows.write_text(text, "utf-8")  # put back: the same bytes, but written since, so hashed again
    assert _hashed_on_open(hashing_settings, monkeypatch) == ["rows.jsonl"]


def test_a_build_vouches_for_the_files_it_hashed_so_the_first_open_reads_none(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "RACY_NS", 0)  # the files were written just now: record them anyway
    check = integrity._check
    hashed = _count_hashing(monkeypatch)
    built = _build(hashing_settings)  # builds, then opens what it wrote
    monkeypatch.setattr(integrity, "_check", check)
    record = hashing_settings.index_dir / f".verified-{built.path.name}"
    assert set(json.loads(record.read_text(encoding="utf-8"))["files"]) == set(built.manifest.files) - {"manifest.json"}
    assert hashed == []
    assert _hashed_on_open(hashing_settings, monkeypatch) == []
    # What the build vouched for is its files as written: one changed since (the same size) is hashed and refused.
    rows = _file(hashing_settings, "rows.jsonl")
    rows.write_text(rows.read_text(encoding="utf-8").replace("certified since 2024", "certified since 2014"), "utf-8")
    with pytest.raises(IndexStaleError, match=r"rows\.jsonl does not hash"):
        _open(hashing_settings, rebuild=False)


def test_a_build_does_not_vouch_for_the_files_it_wrote_last(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _build(hashing_settings)  # every file was written less than RACY_NS before it was hashed
    record = hashing_settings.index_dir / f".verified-{built.path.name}"
    assert json.loads(record.read_text(encoding="utf-8"))["files"] == {}
    files = set(built.manifest.files) - {"manifest.json"}
    assert set(_hashed_on_open(hashing_settings, monkeypatch)) == files


def test_files_written_just_before_an_index_is_opened_are_hashed_every_time(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(hashing_settings)
    files = set(_open(hashing_settings, rebuild=False).manifest.files) - {"manifest.json"}
    assert set(_hashed_on_open(hashing_settings, monkeypatch)) == files
    assert set(_hashed_on_open(hashing_settings, monkeypatch)) == files


def test_the_record_of_verified_files_goes_with_its_version(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "RACY_NS", 0)
    first = _build(hashing_settings)
    _open(hashing_settings, rebuild=False).close()
    first.close()
    record = hashing_settings.index_dir / f".verified-{first.path.name}"
    assert record.is_file()
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + "- A new bullet.\n", encoding="utf-8")
    second = _open(hashing_settings, rebuild=True)
    assert second.path != first.path
    assert not first.path.exists()
    assert not record.exists()
