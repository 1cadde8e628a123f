"""Fuzz: any corpus folder gives rows or a CorpusError naming the file, and never a row from outside the folder."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.corpus import load_corpus
from assistant.corpus.models import Layout
from assistant.errors import CorpusError
from assistant.sources import source_view

from conftest import toml_documents
from fuzzing import ANY_CHARACTER, budget, mixed_text, outcome, tally

pytestmark = pytest.mark.fuzz

#: The one line of the file outside the corpus folder: no row or source line may ever contain it.
SECRET = "OUTSIDE-SECRET-7f3a"
LAYOUTS: tuple[Layout, ...] = (
    "tsv_checksheet",
    "csv_checksheet",
    "xlsx_checksheet",
    "markdown",
    "markdown_page",
    "web_page",
)
#: Column names the parsers know, by language (a header mixing languages is drawn too).
HEADERS = (
    ("No", "Question", "Answer", "Category", "Details", "Notes"),
    ("No", "質問", "回答", "項目", "備考", "分類"),
    ("No", "질문", "답변", "항목", "비고"),
)
COLUMNS = tuple(dict.fromkeys(name for names in HEADERS for name in names))

#: Text a saved document can hold: no lone surrogates, no control characters but tab.
PRINTABLE = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t")
WORDS = ("Yes", "No", "有", "無", "○", "-", "", "SSO", "ISO 27001", "バックアップ", "백업은 매일", "AES-256", "N/A")
cell = st.one_of(st.sampled_from(COLUMNS + WORDS), st.text(PRINTABLE, max_size=12), mixed_text(4, 8))
clean_cell = st.one_of(st.sampled_from(COLUMNS + WORDS), st.text(PRINTABLE, max_size=12))


def tables(cells: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[list[str], list[list[str]]]]:
    """A header of known column names and rows of cells."""
    header = st.sampled_from([*HEADERS, COLUMNS]).flatmap(
        lambda names: st.lists(st.sampled_from(names), min_size=2, max_size=6, unique=True)
    )
    return st.tuples(header, st.lists(st.lists(cells, min_size=1, max_size=7), max_size=25))


@st.composite
def delimited(
    draw: st.DrawFn, delimiters: tuple[str, ...] = ("\t", ",", ";", "|", " | ", "\t\t"), clean: bool = False
) -> str:
    """A checksheet-like table: a header of known column names, rows of cells, any line ending."""
    header, rows = draw(tables(clean_cell if clean else cell))
    delimiter = draw(st.sampled_from(delimiters))
    ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", "\n\n"]))
    quote = draw(st.booleans())
    lines = [delimiter.join(f'"{c}"' if quote and c else c for c in line) for line in [header, *rows]]
    return ending.join(lines) + draw(st.sampled_from(["", ending]))


def markdown_lines(cells: st.SearchStrategy[str], words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    line = st.one_of(
        st.tuples(st.integers(1, 7), words).map(lambda p: "#" * p[0] + " " + p[1]),
        st.tuples(st.sampled_from(["- ", "* ", "  • ", "1. ", "    - ", "・"]), words).map("".join),
        st.lists(cells, min_size=1, max_size=5).map(lambda cs: "| " + " | ".join(cs) + " |"),
        st.sampled_from(["|---|---|", "```", "", "   ", "---", "> quote"]),
        words,
    )
    return st.lists(line, max_size=40).map("\n".join)


markdown = markdown_lines(cell, mixed_text(6, 10))
clean_markdown = markdown_lines(clean_cell, st.lists(clean_cell, min_size=1, max_size=6).map(" ".join))
text = st.one_of(delimited(), markdown, mixed_text(30, 20), st.text(ANY_CHARACTER, max_size=400))


#: Text that fits each layout (most documents loaded are of this kind).
FITTING: dict[str, st.SearchStrategy[str]] = {
    "tsv_checksheet": delimited(("\t",), clean=True),
    "csv_checksheet": delimited((",", ";"), clean=True),
    "xlsx_checksheet": delimited(clean=True),
    "markdown": clean_markdown,
    "markdown_page": clean_markdown,
    "web_page": clean_markdown,
}


@st.composite
def content(draw: st.DrawFn, layout: str) -> bytes:
    """A document file's bytes: text fitting the layout or not, in some encoding, NULs, huge lines, random bytes."""
    kind = draw(st.sampled_from(["fitting"] * 6 + ["text", "bytes", "huge line", "nul"]))
    if kind == "bytes":
        return draw(st.binary(max_size=3000))
    body = draw(FITTING[layout] if kind == "fitting" else text)
    if kind == "huge line":
        body += "\n  • " + draw(st.sampled_from(["x", "日", " ", "a|"])) * draw(st.integers(30_000, 70_000))
    if kind == "nul":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + "\x00" + body[at:]
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "cp932", "euc_kr", "latin-1"]))
    return body.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


@st.composite
def workbook(draw: st.DrawFn) -> bytes:
    """An XLSX file from a random table (sometimes cut short or with stray cells), or random bytes."""
    header, rows = draw(tables(cell))
    book = openpyxl.Workbook()
    sheet = book.active
    for values in [header, *rows]:
        sheet.append([_xlsx_safe(v) for v in values])
    if draw(st.booleans()):
        sheet.merge_cells(draw(st.sampled_from(["A2:A3", "B2:C2", "A1:B1"])))
    if draw(st.booleans()):
        sheet[draw(st.sampled_from(["Z200", "AA1", "C3000"]))] = "stray"
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    cut = draw(st.sampled_from([None] * 8 + [10, len(data) // 2]))
    return data if cut is None else data[:cut]


def _title(title: str) -> st.SearchStrategy[str]:
    """Mostly a plain title; the fourth choice ("") draws any text, which may make corpus.toml invalid."""
    return st.just(title) if title else mixed_text(4, 6).map(lambda text: text or "T")


def _xlsx_safe(value: str) -> str:
    """openpyxl refuses control characters and lone surrogates in cells: they cannot be in a saved workbook."""
    return "".join(c for c in value if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)


#: Where a document's 'file' points: normal names, and every way out of the folder.
FILES = (
    "doc.txt",
    "sub/doc.txt",
    "../outside/secret.txt",
    "sub/../../outside/secret.txt",
    "{outside}/secret.txt",
    "{outside}/missing.txt",
    "/etc/passwd",
    "link-file",
    "link-dir/secret.txt",
    "link-missing",
    "..",
    ".",
    "sub",
    "a" * 300,
    "sub/" + "b" * 5000,
    "x\x00y",
    "doc.txt/",
)


@st.composite
def corpus_entry(draw: st.DrawFn, number: int) -> tuple[dict[str, object], bytes | None]:
    """One [[documents]] entry and the bytes of its file (None: no file written; the entry points elsewhere)."""
    layout = draw(st.sampled_from(LAYOUTS))
    hostile = draw(st.integers(0, 3)) == 0
    file = draw(st.sampled_from(FILES if hostile else ("doc.txt", "sub/doc.txt")))
    ours = file in ("doc.txt", "sub/doc.txt")
    if ours:
        file = file.replace("doc", f"doc{number}")
    entry: dict[str, object] = {
        "id": f"doc-{number}",
        "vendor": draw(st.sampled_from(["Acme", "Borealis", "Ｂｏｒｅａｌｉｓ Ltd"])),
        "product": "Product",
        "file": file,
        "layout": layout,
        "languages": draw(st.sampled_from([["en"], ["ja"], ["ko"], ["en", "ja"], ["ja", "en", "ko"]])),
        "title": draw(st.sampled_from(["Title", "チェックシート", "보안", ""]).flatmap(_title)),
    }
    data = None
    if ours:
        data = draw(workbook()) if layout == "xlsx_checksheet" and draw(st.booleans()) else draw(content(layout))
    return entry, data


@st.composite
def corpus(draw: st.DrawFn) -> tuple[list[tuple[dict[str, object], bytes | None]], bytes | None]:
    """Up to three entries; sometimes corpus.toml itself is random text or bytes instead."""
    entries = [draw(corpus_entry(n)) for n in range(draw(st.integers(1, 3)))]
    files = [entry["file"] for entry, _ in entries]
    entries = [entry for n, entry in enumerate(entries) if entry[0]["file"] not in files[:n]]  # one entry per file
    random_toml = st.one_of(st.binary(max_size=200), mixed_text().map(lambda t: t.encode("utf-8", "surrogatepass")))
    toml = draw(random_toml) if draw(st.integers(0, 9)) == 0 else None
    return entries, toml


def write(root: Path, entries: list[tuple[dict[str, object], bytes | None]], toml: bytes | None) -> Path:
    """The corpus folder under ``root``, beside an ``outside`` folder holding the secret, with its symlinks."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"Secret\n\n  • {SECRET} one\n  • {SECRET} two\n", encoding="utf-8")
    folder = root / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "link-file").symlink_to(outside / "secret.txt")
    (folder / "link-dir").symlink_to(outside, target_is_directory=True)
    (folder / "link-missing").symlink_to(outside / "missing.txt")
    documents = []
    for entry, data in entries:
        entry = {**entry, "file": str(entry["file"]).replace("{outside}", str(outside))}
        documents.append(entry)
        if data is not None:
            (folder / str(entry["file"])).write_bytes(data)
    if toml is None:
        (folder / "corpus.toml").write_bytes(toml_documents(documents).encode("utf-8", "surrogatepass"))
    else:
        (folder / "corpus.toml").write_bytes(toml)
    return folder


def check_corpus(folder: Path) -> None:
    """Rows or errors naming the file; nothing from outside; and each row's citation checks out."""
    refused: CorpusError | None = None
    try:
        loaded = load_corpus(folder)
    except CorpusError as toml_error:
        refused = toml_error
    if refused is not None:
        assert refused.file == str(folder / "corpus.toml")
        str(refused).encode("utf-8")
        tally("corpus files", f"corpus.toml refused: {refused.message[:30]}")
        return
    keys = [meta.key for meta in loaded.metas]
    assert sorted(keys) == sorted([doc.key for doc in loaded.documents] + list(loaded.errors))
    for key, document_error in loaded.errors.items():
        meta = next(m for m in loaded.metas if m.key == key)
        assert isinstance(document_error, CorpusError)
        assert document_error.file == str(folder / meta.file), (document_error.file, meta.file)
        assert SECRET not in str(document_error)
        str(document_error).encode("utf-8")
        tally("corpus files", f"document refused: {_kind(document_error.message)}")
    root = folder.resolve()
    for document in loaded.documents:
        assert document.path.resolve().is_relative_to(root)
        assert document.rows
        tally("corpus files", f"document loaded: {document.meta.layout}")
        for row in document.rows:
            assert SECRET not in row.model_dump_json()
            json.loads(row.model_dump_json())
        for row in document.rows[:3]:
            view = source_view(folder, document.meta.file, row, context=1)
            assert view.matches_index, (row.id, row.source_text)


def _kind(message: str) -> str:
    for kind in ("outside the corpus folder", "file not found", "not valid UTF-8", "binary content", "empty",
                 "no rows found", "characters; the limit", "XLSX", "header", "language", "cells"):  # fmt: skip
        if kind in message:
            return kind
    return "other: " + message[:40]


@budget(200)
@given(corpus())
def test_any_corpus_folder(drawn: tuple[list[tuple[dict[str, object], bytes | None]], bytes | None]) -> None:
    entries, toml = drawn
    with tempfile.TemporaryDirectory() as tmp, outcome("corpus files"):
        check_corpus(write(Path(tmp), entries, toml))


def test_the_fuzz_corpus_can_load(tmp_path: Path) -> None:
    """The strategies can produce a loading document (a fuzz run that never loads one would prove little)."""
    entry: dict[str, Any] = {
        "id": "doc-0",
        "vendor": "Acme",
        "product": "Product",
        "file": "doc0.txt",
        "layout": "tsv_checksheet",
        "languages": ["en"],
        "title": "Title",
    }
    folder = write(tmp_path, [(entry, b"No\tQuestion\tAnswer\n1\tSSO?\tYes\n")], None)
    assert [row.answer for row in load_corpus(folder).rows] == ["Yes"]
