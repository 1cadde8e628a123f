"""Documents are read only from inside the corpus folder, and only up to sizes a real checksheet never reaches."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest

from assistant.corpus import load_corpus
from assistant.corpus.limits import MAX_DOCUMENT_BYTES, MAX_LINE_CHARS, MAX_ROW_CHARS, MAX_SHEET_CELLS
from assistant.corpus.paths import confined
from assistant.embedding import load_embedder
from assistant.errors import CorpusError
from assistant.index import folder
from assistant.index.folder import DOCUMENTS
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import WriteCorpus

#: A line only the file outside the corpus has: it must never come back as a row or a source line.
SECRET = "SECRET-OUTSIDE-THE-CORPUS"
PAGE = "Title\n\n  • Backups run every night.\n  • Data is encrypted with AES-256.\n"


def page_entry(file: str, doc_id: str = "page") -> dict[str, object]:
    return {
        "id": doc_id,
        "vendor": "Acme",
        "product": "Acme Cloud",
        "file": file,
        "layout": "web_page",
        "languages": ["en"],
        "title": "Acme page",
    }


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A readable page outside the corpus folder (beside it), in the layout the hostile entries declare."""
    secret = tmp_path / "secret" / "page.txt"
    secret.parent.mkdir()
    secret.write_text(f"Secret\n\n  • {SECRET} line one.\n  • {SECRET} line two.\n", encoding="utf-8")
    return secret


def refusal(corpus_dir: Path, file: str) -> str:
    """The error a document with this 'file' gets, with the path it names taken out."""
    corpus = load_corpus(corpus_dir)
    assert not corpus.documents, [d.key for d in corpus.documents]
    error = corpus.errors["acme/page"]
    assert error.file == str(corpus_dir / file)
    return error.message


def assert_refused_as_outside(corpus_dir: Path, file: str) -> None:
    message = refusal(corpus_dir, file)
    assert message.startswith(f"outside the corpus folder {corpus_dir}")
    assert SECRET not in message


def test_absolute_path_to_etc_passwd_is_refused(write_corpus: WriteCorpus) -> None:
    root = write_corpus([page_entry("/etc/passwd")], {})
    assert_refused_as_outside(root, "/etc/passwd")


def test_absolute_path_outside_is_refused(write_corpus: WriteCorpus, outside: Path) -> None:
    root = write_corpus([page_entry(str(outside))], {})
    assert_refused_as_outside(root, str(outside))


def test_dot_dot_out_of_the_folder_is_refused(write_corpus: WriteCorpus, outside: Path) -> None:
    root = write_corpus([page_entry("../secret/page.txt")], {})
    assert_refused_as_outside(root, "../secret/page.txt")
    root = write_corpus([page_entry("acme/../../secret/page.txt")], {"acme/faq.txt": PAGE})
    assert_refused_as_outside(root, "acme/../../secret/page.txt")


def test_symlinked_file_pointing_out_is_refused(write_corpus: WriteCorpus, outside: Path) -> None:
    root = write_corpus([page_entry("acme/page.txt")], {})
    (root / "acme").mkdir()
    (root / "acme" / "page.txt").symlink_to(outside)
    assert_refused_as_outside(root, "acme/page.txt")


def test_symlinked_directory_pointing_out_is_refused(write_corpus: WriteCorpus, outside: Path) -> None:
    root = write_corpus([page_entry("acme/page.txt")], {})
    (root / "acme").symlink_to(outside.parent, target_is_directory=True)
    assert_refused_as_outside(root, "acme/page.txt")


def test_refusal_does_not_tell_whether_the_target_exists(write_corpus: WriteCorpus, outside: Path) -> None:
    """Outside the folder, an existing file, a missing one, a broken link and a link loop all read the same."""
    root = write_corpus([page_entry("x")], {})
    (root / "to-missing").symlink_to(outside.parent / "missing.txt")
    (root / "loop-a").symlink_to(root / "loop-b")
    (root / "loop-b").symlink_to(root / "loop-a")
    entries = [
        str(outside),
        str(outside.parent / "missing.txt"),
        "../secret/page.txt",
        "../secret/missing.txt",
        "../no-such-folder/x.txt",
        "to-missing",
        "loop-a",
    ]
    messages = set()
    for entry in entries:
        write_corpus([page_entry(entry)], {})
        messages.add(refusal(root, entry))
    assert len(messages) == 1, messages


def test_symlinks_inside_the_folder_still_work(write_corpus: WriteCorpus) -> None:
    root = write_corpus([page_entry("acme/page.txt")], {"shared/page.txt": PAGE})
    (root / "acme").symlink_to(root / "shared", target_is_directory=True)
    corpus = load_corpus(root)
    assert not corpus.errors
    assert [row.answer for row in corpus.rows] == ["Backups run every night.", "Data is encrypted with AES-256."]


def test_a_missing_file_inside_the_folder_is_named(write_corpus: WriteCorpus) -> None:
    root = write_corpus([page_entry("acme/missing.txt")], {})
    assert refusal(root, "acme/missing.txt").startswith("file not found")


def test_confined_returns_the_path_inside(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert confined(tmp_path, "a/b.txt") == tmp_path / "a" / "b.txt"
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        confined(tmp_path, "a/../../b.txt")
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        confined(tmp_path, "a/\x00b.txt")


def test_corpus_toml_symlinked_out_is_refused(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "corpus.toml").symlink_to(outside)
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        load_corpus(root)


def test_source_view_refuses_a_document_edited_to_point_out(hashing_settings: Settings) -> None:
    """documents.json in the index folder is a file anyone with write access can edit: the view checks again."""
    assistant = Assistant.load(hashing_settings)
    row_id = "borealis/page-ko#1"
    assert assistant.source(row_id).matches_index
    path = hashing_settings.index_dir / DOCUMENTS
    documents = json.loads(path.read_text(encoding="utf-8"))
    for document in documents:
        if document["id"] == "page-ko":
            document["file"] = "/etc/passwd"
    path.write_text(json.dumps(documents), encoding="utf-8")
    edited = Assistant(hashing_settings, load_embedder(hashing_settings), folder.load(hashing_settings.index_dir))
    with pytest.raises(CorpusError, match="outside the corpus folder") as raised:
        edited.source(row_id)
    assert "root:" not in str(raised.value)


# --- sizes ------------------------------------------------------------------------------------------------


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(write_corpus: WriteCorpus) -> None:
    root = write_corpus([page_entry("page.txt")], {"page.txt": PAGE})
    os.truncate(root / "page.txt", MAX_DOCUMENT_BYTES + 1)  # sparse: nothing to read if the check comes first
    message = refusal(root, "page.txt")
    assert message.startswith(f"the file is {MAX_DOCUMENT_BYTES + 1:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}")


def test_a_line_over_the_length_limit_is_refused_with_its_number(write_corpus: WriteCorpus) -> None:
    root = write_corpus([page_entry("page.txt")], {"page.txt": PAGE + "  • " + "x" * MAX_LINE_CHARS + "\n"})
    corpus = load_corpus(root)
    error = corpus.errors["acme/page"]
    assert error.line == 5
    assert error.message.startswith(f"line 5 is {MAX_LINE_CHARS + 4:,} characters; the limit is {MAX_LINE_CHARS:,}")


def test_a_row_over_the_length_limit_is_refused_with_its_lines(write_corpus: WriteCorpus) -> None:
    half = "y" * (MAX_LINE_CHARS - 100)
    cell = "\n".join([half, half, half])  # one quoted cell over three lines, each under the line limit
    csv_text = f'No,Question,Answer\n1,Backups?,"{cell}"\n'
    entry = {**page_entry("sheet.csv"), "layout": "csv_checksheet"}
    root = write_corpus([entry], {"sheet.csv": csv_text})
    error = load_corpus(root).errors["acme/page"]
    assert error.line == 2
    assert f"the limit is {MAX_ROW_CHARS:,}" in error.message
    assert "lines 2-4" in error.message


def test_a_sheet_spanning_too_many_cells_is_refused(write_corpus: WriteCorpus) -> None:
    entry = {**page_entry("sheet.xlsx"), "layout": "xlsx_checksheet"}
    root = write_corpus([entry], {})
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["No", "Question", "Answer"])
    sheet.append(["1", "Backups?", "Every night"])
    sheet["XFD1048576"] = "stray"  # the last cell of a sheet: 17 billion cells in the used range
    book.save(root / "sheet.xlsx")
    message = refusal(root, "sheet.xlsx")
    assert f"the limit is {MAX_SHEET_CELLS:,}" in message
    assert "A1:XFD1048576" in message


def test_a_workbook_merging_too_many_cells_is_refused_before_it_is_loaded(write_corpus: WriteCorpus) -> None:
    """openpyxl makes one object per merged cell: this 5 KB file would need hundreds of gigabytes."""
    entry = {**page_entry("sheet.xlsx"), "layout": "xlsx_checksheet"}
    root = write_corpus([entry], {})
    book = openpyxl.Workbook()
    book.active.append(["No", "Question", "Answer"])
    book.active.append(["1", "Backups?", "Every night"])
    plain = root / "plain.xlsx"
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(root / "sheet.xlsx", "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                merge = b'<mergeCells count="1"><mergeCell ref="D1:XFD1048576"/></mergeCells>'
                data = data.replace(b"</sheetData>", b"</sheetData>" + merge)
            target.writestr(info, data)
    message = refusal(root, "sheet.xlsx")
    assert message.startswith(f"xl/worksheets/sheet1.xml merges {16381 * 1048576:,} cells; the limit is")


def test_a_file_name_too_long_to_exist_is_not_found(write_corpus: WriteCorpus) -> None:
    """Found by the fuzz tests: the file system's ENAMETOOLONG escaped as an OSError."""
    name = "a" * 300
    root = write_corpus([page_entry(name)], {})
    assert refusal(root, name).startswith("file not found")
