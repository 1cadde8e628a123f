"""`Assistant.ask` with the model-free hashing embedder: citations, scoping, limits and the CLI."""

from __future__ import annotations

import json

import pytest

from assistant.answers import AskResult
from assistant.citations import result_text
from assistant.cli import main
from assistant.errors import QuestionError
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import TINY_ROWS


@pytest.fixture
def assistant(hashing_settings: Settings) -> Assistant:
    return Assistant.load(hashing_settings)


def test_ask_returns_the_verbatim_row_with_its_citation(assistant: Assistant) -> None:
    result = assistant.ask("Are backups encrypted with AES-256?", k=3)
    assert result.status == "answered"
    assert result.answer is not None
    match = result.answer
    assert match.row_id == "acme/faq#3"
    assert match.answer == "Backup data is encrypted with AES-256."
    assert match.source_text == "- Backup data is encrypted with AES-256."
    cite = match.citation
    assert (cite.vendor, cite.document_id, cite.document_title) == ("Acme", "acme/faq", "Acme security FAQ")
    assert (cite.file, cite.line_start, cite.line_end, cite.language) == ("acme/faq.md", 6, 6, "en")
    assert cite.section == ["Acme security", "Backups"]
    assert cite.as_of is not None
    assert cite.as_of.isoformat() == "2025-06-01"
    assert len(result.alternatives) == 2
    assert [m.rank for m in result.alternatives] == [2, 3]
    assert result.alternatives[0].score <= match.score


def test_the_cited_lines_hold_the_quoted_text(assistant: Assistant, hashing_settings: Settings) -> None:
    for question in ("SSO를 지원합니까?", "二要素認証に対応していますか", "How long are backups kept?"):
        result = assistant.ask(question, k=TINY_ROWS)
        for match in [result.answer, *result.alternatives]:
            assert match is not None
            lines = (hashing_settings.corpus_dir / match.citation.file).read_text(encoding="utf-8").split("\n")
            quoted = "\n".join(lines[match.citation.line_start - 1 : match.citation.line_end])
            assert quoted == match.source_text


def test_an_older_documents_citation_names_the_newer_one(assistant: Assistant) -> None:
    result = assistant.ask("二要素認証に対応していますか", vendor="Acme")
    assert result.answer is not None
    assert result.answer.row_id == "acme/sheet-ja#2"
    assert result.answer.citation.superseded_by == ["acme/faq"]
    assert result.answer.citation.as_of is None
    assert "newer document" in result_text(result)


def test_k_larger_than_the_corpus_returns_every_row_once(assistant: Assistant) -> None:
    result = assistant.ask("backups", k=50)
    ids = [m.row_id for m in ([result.answer] if result.answer else []) + result.alternatives]
    assert len(ids) == TINY_ROWS
    assert len(set(ids)) == TINY_ROWS


@pytest.mark.parametrize("k", [0, 101])
def test_k_out_of_range_is_a_clear_error(assistant: Assistant, k: int) -> None:
    with pytest.raises(QuestionError, match="k must be a whole number from 1 to 100"):
        assistant.ask("backups", k=k)


def test_an_explicit_vendor_scopes_the_search(assistant: Assistant) -> None:
    result = assistant.ask("backups every day", vendor="borealis", k=10)
    matches = ([result.answer] if result.answer else []) + result.alternatives
    assert result.vendor == "Borealis"
    assert result.vendor_source == "given"
    assert {m.citation.vendor for m in matches} == {"Borealis"}
    assert len(matches) == 3


def test_a_vendor_named_in_the_question_scopes_the_search(assistant: Assistant) -> None:
    result = assistant.ask("Does Borealis keep backups?", k=10)
    matches = ([result.answer] if result.answer else []) + result.alternatives
    assert (result.vendor, result.vendor_source) == ("Borealis", "question")
    assert {m.citation.vendor for m in matches} == {"Borealis"}
    by_product = assistant.ask("Acme Cloud のバックアップは?", k=10)
    assert by_product.vendor == "Acme"


def test_two_vendors_named_means_no_scope(assistant: Assistant) -> None:
    result = assistant.ask("Do Acme and Borealis back up data?", k=10)
    assert (result.vendor, result.vendor_source) == (None, "none")


def test_an_unknown_vendor_is_a_clear_error_with_a_suggestion(assistant: Assistant) -> None:
    with pytest.raises(
        QuestionError, match=r"unknown vendor 'Acmee' \(did you mean 'Acme'\?\); known vendors: Acme, Borealis"
    ):
        assistant.ask("backups", vendor="Acmee")


def test_scoring_only_the_allowed_rows_ranks_as_scoring_them_all(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.signals import lexical

    questions = ["Are backups encrypted?", "백업은 며칠 보관합니까?", "ISMSを取得していますか", "SSO?"]
    asked = [(q, vendor, language) for q in questions for vendor in ("Acme", "Borealis") for language in (None, "ja")]

    def run() -> list[AskResult]:
        return [assistant.ask(q, vendor=v, language=lang, k=5) for q, v, lang in asked if lang != "ja" or v == "Acme"]

    monkeypatch.setattr(lexical, "SUBSET_SHARE", 1)  # every filtered search scores the allowed rows only
    subset = run()
    monkeypatch.setattr(lexical, "SUBSET_SHARE", 10**9)  # never: all rows are scored, then masked
    everything = run()
    assert [r.model_dump(exclude={"timings_ms"}) for r in subset] == [
        r.model_dump(exclude={"timings_ms"}) for r in everything
    ]


def test_a_language_filter_keeps_rows_in_that_language(assistant: Assistant) -> None:
    result = assistant.ask("ISO 27001", language="ja", k=10)
    matches = ([result.answer] if result.answer else []) + result.alternatives
    assert {m.citation.language for m in matches} == {"ja"}
    with pytest.raises(QuestionError, match="no rows in language 'fr'; the corpus has: en, ja, ko"):
        assistant.ask("ISO 27001", language="fr")


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01"])
def test_an_empty_question_is_a_clear_error(assistant: Assistant, question: str) -> None:
    with pytest.raises(QuestionError, match="the question is empty"):
        assistant.ask(question)


def test_an_over_long_question_is_a_clear_error(assistant: Assistant) -> None:
    limit = assistant.settings.max_question_chars
    assert assistant.ask("b" * limit).question == "b" * limit
    with pytest.raises(QuestionError, match=f"the question is {limit + 1} characters; the limit is {limit}"):
        assistant.ask("b" * (limit + 1))
    with pytest.raises(QuestionError, match="the limit is"):
        assistant.ask("backup " * 1_000_000)


def test_below_the_threshold_the_answer_is_no_reliable_answer(hashing_settings: Settings) -> None:
    strict = Assistant.load(hashing_settings.model_copy(update={"answer_threshold": 0.99}))
    result = strict.ask("What is the weather in Paris?", k=3)
    assert result.status == "no_answer"
    assert result.answer is None
    assert result.reason is not None
    assert "below the 0.99 an answer needs" in result.reason
    assert len(result.alternatives) == 3  # the closest rows, offered as related
    assert result_text(result).startswith("No reliable answer: ")


def test_the_source_view_marks_the_cited_lines_and_detects_edits(
    assistant: Assistant, hashing_settings: Settings
) -> None:
    view = assistant.source("borealis/page-ko#2", context=2)
    assert view.matches_index
    assert [(line.number, line.cited) for line in view.lines] == [
        (4, False),
        (5, False),
        (6, True),
        (7, False),
        (8, False),
    ]
    assert view.lines[2].text == "  • 백업 데이터는 7일간 보관됩니다"
    page = hashing_settings.corpus_dir / "borealis" / "page.ko.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("7일간", "14일간"), encoding="utf-8")
    assert not assistant.source("borealis/page-ko#2").matches_index


def test_cli_ask_json_follows_the_documented_schema(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(hashing_settings.cache_dir))
    args = ["ask", "--corpus", str(hashing_settings.corpus_dir), "--index", str(hashing_settings.index_dir)]
    assert main([*args, "--json", "-k", "2", "Is", "Acme", "ISO", "27001", "certified?"]) == 0
    payload = json.loads(capsys.readouterr().out)
    result = AskResult.model_validate(payload)
    assert result.vendor == "Acme"
    assert result.answer is not None
    assert result.answer.citation.row_id.startswith("acme/")
    assert set(payload) >= {"question", "status", "reason", "answer", "alternatives", "confidence", "threshold"}
    assert main([*args, "Is", "Acme", "ISO", "27001", "certified?"]) == 0
    text = capsys.readouterr().out
    assert "Answer (confidence" in text
    assert "Row: acme/" in text
    assert main([*args, "--vendor", "Nobody", "backups"]) == 1
    assert "unknown vendor 'Nobody'" in capsys.readouterr().err


def test_cli_build_reports_up_to_date(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", "hashing")
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(hashing_settings.cache_dir))
    args = ["build", "--corpus", str(hashing_settings.corpus_dir), "--index", str(hashing_settings.index_dir)]
    assert main(args) == 0
    assert f"{TINY_ROWS} rows" in capsys.readouterr().out
    assert main(args) == 0
    assert "is up to date" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert "built" in capsys.readouterr().out


def test_ask_many_answers_each_question_as_ask_does(assistant: Assistant) -> None:
    questions = ["How often are backups taken?", "", "2要素認証はありますか", "x" * 5000, "Is data encrypted?"]
    results = assistant.ask_many(questions, vendor="Acme", k=3)
    assert [type(r).__name__ for r in results] == [
        "AskResult",
        "QuestionError",
        "AskResult",
        "QuestionError",
        "AskResult",
    ]
    for question, result in zip(questions, results, strict=True):
        if isinstance(result, QuestionError):
            with pytest.raises(QuestionError) as raised:
                assistant.ask(question, vendor="Acme", k=3)
            assert str(result) == str(raised.value)
            continue
        expected = assistant.ask(question, vendor="Acme", k=3)
        keep = {"created_at", "timings_ms"}
        assert result.model_dump(exclude=keep) == expected.model_dump(exclude=keep)
    with pytest.raises(QuestionError, match="language"):
        assistant.ask_many(["Do you support SSO?"], language="xx")
    with pytest.raises(QuestionError, match="unknown vendor"):
        assistant.ask_many(["Do you support SSO?"], vendor="Acmee")


def test_a_signal_weighted_zero_is_not_run(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    lexical = assistant.index.signals["lexical"]
    calls: list[str] = []
    run = type(lexical).run  # the concepts signal's class too

    def counting(self: object, query: object, allowed: object) -> object:
        if self is lexical:
            calls.append(getattr(query, "text", ""))
        return run(self, query, allowed)  # type: ignore[arg-type]

    monkeypatch.setattr(type(lexical), "run", counting)
    assert assistant.weights["lexical"] > 0
    assistant.ask("Are you ISO 27001 certified?")
    assert len(calls) == 1
    monkeypatch.setitem(assistant.weights, "lexical", 0.0)
    result = assistant.ask("Are you ISO 27001 certified?")
    assert len(calls) == 1  # not run again
    assert result.status == "answered"
    assert result.answer is not None
    assert "lexical_first" not in result.features
    assert "dense_first" in result.features
