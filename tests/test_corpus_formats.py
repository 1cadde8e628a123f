"""Layouts written in the test (CSV, XLSX, markdown), malformed files, and corpus.toml validation."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import openpyxl
import pytest

from assistant.corpus import Corpus, DocumentMeta, load_corpus, load_metadata
from assistant.errors import CorpusError

WriteCorpus = Callable[[Sequence[Mapping[str, object]], Mapping[str, str | bytes]], Path]

GOOD_FILE = "acme/good.csv"
GOOD_CSV = "No,Question,Answer\n1,Do you support SSO?,Yes\n"


def doc(doc_id: str, file: str, layout: str, languages: Sequence[str] = ("en",), **extra: object) -> dict[str, object]:
    """A corpus.toml entry of the vendor "Acme Cloud" (vendor_id "acme-cloud")."""
    return {
        "id": doc_id,
        "vendor": "Acme Cloud",
        "product": "Acme",
        "file": file,
        "layout": layout,
        "languages": list(languages),
        "title": f"Acme {doc_id}",
        **extra,
    }


GOOD_DOC = doc("good", GOOD_FILE, "csv_checksheet")


def lines_of(text: str) -> list[str]:
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def one_document(write_corpus: WriteCorpus, entry: dict[str, object], content: str | bytes) -> Corpus:
    corpus = load_corpus(write_corpus([entry], {str(entry["file"]): content}))
    assert corpus.errors == {}
    return corpus


# --- CSV ------------------------------------------------------------------------------------------------------

CSV = (
    "Acme Cloud security checksheet (2025-03)\n"  # a title line above the header
    "No,Category,Question,Answer,Details\n"
    '1,Access control,Do you support single sign-on?,Yes,"SAML 2.0 with Okta\n'  # a quoted cell over two lines
    'and Azure AD"\n'
    "2,,Is MFA enforced for administrators?,Yes,TOTP or WebAuthn\n"  # category left empty: carried down
    "3,Data protection,Is customer data encrypted at rest?,Yes,AES-256\n"
)


def test_csv_checksheet(write_corpus: WriteCorpus) -> None:
    corpus = one_document(write_corpus, doc("sheet", "acme/sheet.csv", "csv_checksheet"), CSV)
    sheet = corpus.document("acme-cloud/sheet")
    lines = lines_of(CSV)
    assert [r.id for r in sheet.rows] == ["acme-cloud/sheet#1", "acme-cloud/sheet#2", "acme-cloud/sheet#3"]
    first, second, third = sheet.rows
    assert (first.line_start, first.line_end) == (3, 4)
    assert first.source_text == "\n".join(lines[2:4])
    assert first.detail == "SAML 2.0 with Okta\nand Azure AD"
    assert (first.item_no, first.question, first.answer) == ("1", "Do you support single sign-on?", "Yes")
    assert first.section == ["Access control"]
    assert (first.kind, first.language, first.sheet) == ("sheet_row", "en", None)

    assert (second.line_start, second.line_end, second.source_text) == (5, 5, lines[4])
    assert second.section == ["Access control"]  # the empty category cell carries down
    assert "Category" not in second.fields  # fields are the cells as written
    assert (second.question, second.answer, second.detail) == (
        "Is MFA enforced for administrators?",
        "Yes",
        "TOTP or WebAuthn",
    )

    assert (third.line_start, third.section, third.carried) == (6, ["Data protection"], {})
    assert sheet.line_kinds == {
        (None, 1): "title",
        (None, 2): "table_header",
        (None, 3): "row",
        (None, 4): "row",
        (None, 5): "row",
        (None, 6): "row",
    }


def test_csv_carried_category_is_recorded(write_corpus: WriteCorpus) -> None:
    corpus = one_document(write_corpus, doc("sheet", "acme/sheet.csv", "csv_checksheet"), CSV)
    assert corpus.document("acme-cloud/sheet").rows[1].carried == {"Category": "Access control"}


def test_csv_carried_category_without_number_column(write_corpus: WriteCorpus) -> None:
    text = "Category,Question,Answer\nAccess control,Do you support SSO?,Yes\n,Is MFA enforced?,Yes\n"
    corpus = one_document(write_corpus, doc("sheet", "acme/sheet.csv", "csv_checksheet"), text)
    rows = corpus.document("acme-cloud/sheet").rows
    assert rows[1].carried == {"Category": "Access control"}
    assert rows[1].section == ["Access control"]
    assert rows[0].carried == {}


def test_csv_semicolon_delimited(write_corpus: WriteCorpus) -> None:
    text = (
        "番号;分類;質問;回答;詳細\n"
        "1;アクセス管理;SSOに対応していますか?;はい;SAML 2.0, OIDC\n"  # a comma inside a cell is not a delimiter
        "2;;多要素認証は必須ですか?;はい;TOTP\n"
    )
    corpus = one_document(write_corpus, doc("semi", "acme/semi.csv", "csv_checksheet", ["ja"]), text)
    first, second = corpus.document("acme-cloud/semi").rows
    assert first.fields == {
        "番号": "1",
        "分類": "アクセス管理",
        "質問": "SSOに対応していますか?",
        "回答": "はい",
        "詳細": "SAML 2.0, OIDC",
    }
    assert (first.language, first.question, first.answer, first.detail) == (
        "ja",
        "SSOに対応していますか?",
        "はい",
        "SAML 2.0, OIDC",
    )
    assert (second.line_start, second.section, second.question) == (3, ["アクセス管理"], "多要素認証は必須ですか?")
    assert second.source_text == "2;;多要素認証は必須ですか?;はい;TOTP"


# --- XLSX -----------------------------------------------------------------------------------------------------


def _checksheet_xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Security"
    sheet.append(["Acme Cloud security checksheet"])
    sheet.append(["No", "Category", "Question", "Answer", "Details"])
    sheet.append([1, "Access control", "Do you support SSO?", "Yes", "SAML 2.0"])
    sheet.append([2, None, "Is MFA enforced?", "Yes", "TOTP"])
    sheet.append([3, None, "How many administrators can sign in at once?", 5, None])  # a number
    sheet.append([4, "Availability", "What is the SLA (%)?", 99.9, "Monthly"])
    sheet.merge_cells("B3:B5")  # "Access control" spans rows 3-5
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def test_xlsx_checksheet(tmp_path: Path, write_corpus: WriteCorpus) -> None:
    root = write_corpus([doc("book", "acme/book.xlsx", "xlsx_checksheet")], {})
    _checksheet_xlsx(root / "acme/book.xlsx")
    corpus = load_corpus(root)
    assert corpus.errors == {}
    book = corpus.document("acme-cloud/book")
    assert [(r.sheet, r.line_start, r.line_end) for r in book.rows] == [("Security", n, n) for n in (3, 4, 5, 6)]
    for row in book.rows[:3]:  # every row of the merged cell gets its category
        assert row.section == ["Access control"]
        assert row.fields["Category"] == "Access control"
    first, second, third, fourth = book.rows
    assert (first.id, first.item_no, first.question, first.answer, first.detail) == (
        "acme-cloud/book#1",
        "1",
        "Do you support SSO?",
        "Yes",
        "SAML 2.0",
    )
    assert first.source_text == "1\tAccess control\tDo you support SSO?\tYes\tSAML 2.0"
    assert (second.question, second.answer) == ("Is MFA enforced?", "Yes")
    assert (third.item_no, third.answer, third.detail) == ("3", "5", "")  # numbers as the sheet shows them
    assert (fourth.section, fourth.answer) == (["Availability"], "99.9")
    assert book.line_kinds == {
        ("Security", 1): "title",
        ("Security", 2): "table_header",
        ("Security", 3): "row",
        ("Security", 4): "row",
        ("Security", 5): "row",
        ("Security", 6): "row",
    }


def test_xlsx_formula_without_cached_value(write_corpus: WriteCorpus) -> None:
    root = write_corpus([GOOD_DOC, doc("calc", "acme/calc.xlsx", "xlsx_checksheet")], {GOOD_FILE: GOOD_CSV})
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Answers"
    sheet.append(["No", "Question", "Answer"])
    sheet.append([1, "Uptime last year?", "99.95%"])
    sheet.append([2, "Incidents last year?", "=SUM(1,2)"])  # openpyxl writes the formula with no cached result
    book.save(root / "acme/calc.xlsx")

    corpus = load_corpus(root)
    error = corpus.errors["acme-cloud/calc"]
    message = str(error)
    assert message.startswith(f"{root / 'acme/calc.xlsx'}:3: ")
    assert error.line == 3
    assert "sheet 'Answers' cell C3" in message
    assert "'=SUM(1,2)'" in message
    assert "no saved value" in message
    assert "save the workbook in Excel or LibreOffice" in message  # how to fix it
    assert [d.key for d in corpus.documents] == ["acme-cloud/good"]


# --- markdown -------------------------------------------------------------------------------------------------

FAQ = """# Acme FAQ

## Do you support SSO?

Yes. Acme supports SAML 2.0 single sign-on with Okta and Azure AD.

It is included in the Business plan.

## Backups

- Backup cycle: daily snapshots
- Retention: 30 days
"""


def test_markdown_faq(write_corpus: WriteCorpus) -> None:
    corpus = one_document(write_corpus, doc("faq", "acme/faq.md", "markdown"), FAQ)
    faq = corpus.document("acme-cloud/faq")
    rows = [(r.id, r.kind, r.line_start, r.section, r.item, r.answer, r.source_text) for r in faq.rows]
    sso = ["Acme FAQ", "Do you support SSO?"]
    assert rows == [
        ("acme-cloud/faq#1", "paragraph", 5, sso, "Do you support SSO?", lines_of(FAQ)[4], lines_of(FAQ)[4]),
        ("acme-cloud/faq#2", "paragraph", 7, sso, "Do you support SSO?", lines_of(FAQ)[6], lines_of(FAQ)[6]),
        (
            "acme-cloud/faq#3",
            "bullet",
            11,
            ["Acme FAQ", "Backups"],
            "Backup cycle",
            "Backup cycle: daily snapshots",
            "- Backup cycle: daily snapshots",
        ),
        (
            "acme-cloud/faq#4",
            "bullet",
            12,
            ["Acme FAQ", "Backups"],
            "Retention",
            "Retention: 30 days",
            "- Retention: 30 days",
        ),
    ]
    kinds = {line: kind for (_, line), kind in faq.line_kinds.items()}
    assert kinds == {
        1: "heading",
        2: "blank",
        3: "heading",
        4: "blank",
        5: "row",
        6: "blank",
        7: "row",
        8: "blank",
        9: "heading",
        10: "blank",
        11: "row",
        12: "row",
    }


def test_markdown_wrapped_paragraph_is_not_a_heading(write_corpus: WriteCorpus) -> None:
    text = (
        "# Acme FAQ\n\n## Do you support SSO?\n\n"
        "Yes, with SAML 2.0 via Okta\nand Azure AD.\n"  # one paragraph wrapped over lines 5-6
        "\n## Backups\n\n- Backup cycle: daily\n"
    )
    corpus = one_document(write_corpus, doc("faq", "acme/faq.md", "markdown"), text)
    faq = corpus.document("acme-cloud/faq")
    assert faq.line_kinds[(None, 5)] != "heading"
    answers = [r for r in faq.rows if r.kind == "paragraph"]
    assert answers
    assert answers[0].section == ["Acme FAQ", "Do you support SSO?"]
    assert "Yes, with SAML 2.0 via Okta" in answers[0].answer
    assert faq.rows[-1].section == ["Acme FAQ", "Backups"]


def test_markdown_list_intro_line_is_not_a_heading(write_corpus: WriteCorpus) -> None:
    text = "# Acme FAQ\n\n## Backups\n\nOur backup policy:\n\n- Backup cycle: daily\n- Retention: 30 days\n"
    corpus = one_document(write_corpus, doc("faq", "acme/faq.md", "markdown"), text)
    faq = corpus.document("acme-cloud/faq")
    assert [r.section for r in faq.rows] == [["Acme FAQ", "Backups"]] * 2


# --- malformed files --------------------------------------------------------------------------------------------

MALFORMED = [
    # (file, layout, content (None: not written), message parts, line)
    # An empty or whitespace-only file has no line to point at.
    pytest.param("acme/empty.tsv", "tsv_checksheet", b"", ["the file is empty"], None, id="empty"),
    pytest.param("acme/blank.csv", "csv_checksheet", b"\n  \n\t\n", ["the file is empty"], None, id="blank"),
    pytest.param(
        "acme/binary.tsv",
        "tsv_checksheet",
        b"No\tQuestion\tAnswer\n1\tSSO?\tYes\n2\tMF\x00A?\tNo\n",
        ["binary content (a NUL byte)", "UTF-8 text, CSV or XLSX"],
        3,
        id="binary",
    ),
    pytest.param(
        "acme/sjis.tsv",
        "tsv_checksheet",
        "No\tQuestion\tAnswer\n1\tSSOに対応していますか\tはい\n".encode("shift_jis"),
        ["not valid UTF-8", "cp932", "re-save the file as UTF-8"],
        2,
        id="shift-jis",
    ),
    pytest.param(
        "acme/header.csv",
        "csv_checksheet",
        b"Acme sheet\nNo,Question,Answer\n",
        ["the header has no rows under it"],
        2,
        id="csv-header-without-rows",
    ),
    pytest.param(
        "acme/header.tsv",
        "tsv_checksheet",
        b"Acme sheet\nNo\tQuestion\tAnswer\n\n",
        ["a header with no rows under it"],
        2,
        id="tsv-header-without-rows",
    ),
    pytest.param(
        "acme/ragged.csv",
        "csv_checksheet",
        b"No,Question,Answer\n1,SSO?,Yes\n2,MFA?,Yes,TOTP,extra\n",
        ["the header (line 1) has 3 columns", "quote cells that contain the delimiter"],
        3,
        id="ragged-csv",
    ),
    # No header anywhere: there is no one line to blame.
    pytest.param(
        "acme/noheader.tsv",
        "tsv_checksheet",
        b"just some text\nand more text here\n",
        ["no header line found", "check the layout in corpus.toml"],
        None,
        id="tsv-without-header",
    ),
    # Not a zip archive at all: no sheet or row to name.
    pytest.param(
        "acme/broken.xlsx",
        "xlsx_checksheet",
        random.Random(0).randbytes(512),
        ["not a readable XLSX workbook", "save it as .xlsx"],
        None,
        id="unreadable-xlsx",
    ),
    pytest.param("acme/missing.csv", "csv_checksheet", None, ["file not found", "fix the 'file'"], None, id="missing"),
]


@pytest.mark.parametrize(("file", "layout", "content", "parts", "line"), MALFORMED)
def test_malformed_file(
    write_corpus: WriteCorpus,
    file: str,
    layout: str,
    content: bytes | None,
    parts: list[str],
    line: int | None,
) -> None:
    files: dict[str, str | bytes] = {GOOD_FILE: GOOD_CSV}
    if content is not None:
        files[file] = content
    root = write_corpus([GOOD_DOC, doc("bad", file, layout)], files)
    corpus = load_corpus(root)

    assert set(corpus.errors) == {"acme-cloud/bad"}
    error = corpus.errors["acme-cloud/bad"]
    message = str(error)
    path = str(root / file)
    assert error.file == path
    assert error.line == line
    assert message.startswith(f"{path}:{line}: " if line is not None else f"{path}: ")
    for part in parts:
        assert part in message
    # The other document still loads, and the reports list both.
    assert [d.key for d in corpus.documents] == ["acme-cloud/good"]
    assert corpus.document("acme-cloud/good").rows[0].answer == "Yes"
    reports = {r.key: r for r in corpus.reports()}
    assert (reports["acme-cloud/bad"].error, reports["acme-cloud/bad"].rows) == (message, 0)
    assert (reports["acme-cloud/good"].error, reports["acme-cloud/good"].rows) == (None, 1)


def test_tsv_header_without_rows_is_an_error(write_corpus: WriteCorpus) -> None:
    root = write_corpus(
        [GOOD_DOC, doc("bad", "acme/header.tsv", "tsv_checksheet")],
        {GOOD_FILE: GOOD_CSV, "acme/header.tsv": "Acme sheet\nNo\tQuestion\tAnswer\n\n"},
    )
    corpus = load_corpus(root)
    message = str(corpus.errors["acme-cloud/bad"])
    assert str(root / "acme/header.tsv") in message
    assert "a header with no rows under it" in message
    assert [d.key for d in corpus.documents] == ["acme-cloud/good"]


def test_declared_language_mismatch(write_corpus: WriteCorpus) -> None:
    root = write_corpus(
        [doc("sheet", "acme/sheet.tsv", "tsv_checksheet", ["en"])],
        {"acme/sheet.tsv": "番号\t質問\t回答\n1\tSSOに対応していますか\tはい\n"},
    )
    error = load_corpus(root).errors["acme-cloud/sheet"]
    assert error.line == 1
    assert "cannot tell the language of the header" in str(error)


# --- corpus.toml --------------------------------------------------------------------------------------------------


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "corpus.toml").write_text('[[documents]]\nid = "a"\nvendor = "Acme"\ntitle = "unterminated\n')
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "corpus.toml"))
    assert "invalid TOML" in message
    assert "line 4" in message


def test_invalid_toml_sets_the_error_line(tmp_path: Path) -> None:
    (tmp_path / "corpus.toml").write_text('[[documents]]\nid = "a"\nvendor = "Acme"\ntitle = "unterminated\n')
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{tmp_path / 'corpus.toml'}:4: ")


def test_missing_corpus_toml(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"corpus\.toml: missing"):
        load_corpus(tmp_path)


def _metadata_error(write_corpus: WriteCorpus, documents: Sequence[Mapping[str, object]]) -> str:
    root = write_corpus(documents, {})
    with pytest.raises(CorpusError) as caught:
        load_metadata(root)
    message = str(caught.value)
    assert message.startswith(f"{root / 'corpus.toml'}: invalid metadata: ")
    return message


def test_unknown_key_is_an_error_naming_it(write_corpus: WriteCorpus) -> None:
    message = _metadata_error(write_corpus, [GOOD_DOC, doc("sheet", "acme/s.csv", "csv_checksheet", colour="red")])
    assert "documents.1.colour: Extra inputs are not permitted" in message


def test_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "corpus.toml").write_text('owner = "me"\n')
    with pytest.raises(CorpusError, match="owner: Extra inputs are not permitted"):
        load_metadata(tmp_path)


def test_document_meta_forbids_extra_keys() -> None:
    fields = {key: value for key, value in GOOD_DOC.items()}
    meta = DocumentMeta.model_validate(fields)
    assert (meta.vendor_id, meta.key) == ("acme-cloud", "acme-cloud/good")
    with pytest.raises(ValueError, match="colour"):
        DocumentMeta.model_validate({**fields, "colour": "red"})


def test_relation_to_unknown_document_is_an_error(write_corpus: WriteCorpus) -> None:
    message = _metadata_error(
        write_corpus, [GOOD_DOC, doc("sheet-ja", "acme/s.csv", "csv_checksheet", twins=["sheet-en"])]
    )
    assert "document 'acme-cloud/sheet-ja' refers to 'sheet-en'" in message
    assert "known: good, sheet-ja" in message
    message = _metadata_error(write_corpus, [doc("new", "acme/n.csv", "csv_checksheet", newer_than=["old"])])
    assert "refers to 'old'" in message


def test_relation_to_another_vendors_document_is_an_error(write_corpus: WriteCorpus) -> None:
    other = {**doc("sheet", "other/s.csv", "csv_checksheet"), "vendor": "Other Inc"}
    message = _metadata_error(write_corpus, [other, doc("page", "acme/p.md", "markdown", twins=["sheet"])])
    assert "refers to 'sheet', which is not a document of vendor 'Acme Cloud'" in message


def test_duplicate_ids_are_an_error(write_corpus: WriteCorpus) -> None:
    message = _metadata_error(write_corpus, [GOOD_DOC, doc("good", "acme/other.csv", "csv_checksheet")])
    assert "duplicate document ids: acme-cloud/good" in message


def test_same_id_under_two_vendors_is_allowed(write_corpus: WriteCorpus) -> None:
    other = {**doc("good", "other/good.csv", "csv_checksheet"), "vendor": "Other Inc"}
    root = write_corpus([GOOD_DOC, other], {GOOD_FILE: GOOD_CSV, "other/good.csv": GOOD_CSV})
    corpus = load_corpus(root)
    assert [d.key for d in corpus.documents] == ["acme-cloud/good", "other-inc/good"]
    assert [r.id for r in corpus.rows] == ["acme-cloud/good#1", "other-inc/good#1"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", "Security Sheet", "must be lowercase letters, digits and dashes"),
        ("languages", ["english"], "two-letter ISO 639-1 code"),
        ("layout", "pdf", "documents.0.layout"),
        ("as_of", "last spring", "documents.0.as_of"),
    ],
)
def test_invalid_field_values(write_corpus: WriteCorpus, field: str, value: object, expected: str) -> None:
    message = _metadata_error(write_corpus, [{**GOOD_DOC, field: value}])
    assert expected in message
