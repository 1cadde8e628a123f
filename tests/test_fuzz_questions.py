"""Fuzz: any question, k, vendor and language through `Assistant.ask` give an AskResult or a QuestionError."""

from __future__ import annotations

import decimal
import fractions
import operator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.answers import AskResult
from assistant.errors import QuestionError
from assistant.retrieval import Assistant
from assistant.settings import Settings

from conftest import TINY_DOCUMENTS, TINY_FILES, toml_documents
from fuzzing import ANY_CHARACTER, budget, hazard, mixed_text, outcome, tally

pytestmark = pytest.mark.fuzz


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The tiny two-vendor EN/JA/KO corpus with the hashing embedder, built once for the module."""
    root = tmp_path_factory.mktemp("fuzz-questions")
    corpus = root / "corpus"
    for name, text in TINY_FILES.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "corpus.toml").write_text(toml_documents(TINY_DOCUMENTS), encoding="utf-8")
    return Assistant.load(
        Settings(corpus_dir=corpus, index_dir=root / "index", cache_dir=root / "cache", model="hashing")
    )


NOT_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)

questions = st.one_of(
    st.text(ANY_CHARACTER, max_size=300),
    mixed_text(),
    # Real questions with hazards spliced in.
    st.tuples(
        st.sampled_from(["Is Acme ISO 27001 certified?", "バックアップは何世代ですか", "SSO를 지원합니까?"]), hazard
    ).flatmap(lambda pair: st.integers(0, len(pair[0])).map(lambda at: pair[0][:at] + pair[1] + pair[0][at:])),
    # Empty, blank and huge: around the 1,000-character limit and the 4x early cut.
    st.tuples(st.sampled_from(["", " ", "a", "日", "\ud800", "Acme ", "\u200f", "\x00"]), st.integers(0, 6000)).map(
        lambda pair: pair[0] * pair[1]
    ),
)
options = st.one_of(
    st.none(),
    st.sampled_from(["Acme", "Borealis", "acme", "ＡＣＭＥ", "Nobody", "en", "ja", "ko", "fr", "", " ", "Acme\udcff"]),
    st.text(ANY_CHARACTER, max_size=30),
    st.text(max_size=1).map(lambda c: c * 1000),
    NOT_TEXT,
)
ks = st.one_of(
    st.none(),
    st.integers(-3, 103),
    st.integers(),
    st.integers(min_value=2**64, max_value=2**20000),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True),
    st.fractions(),
    st.text(max_size=4),
    st.sampled_from(
        [np.int64(3), np.int8(-1), np.uint64(2**63), np.float32(2.0), decimal.Decimal(3), fractions.Fraction(3)]
    ),
    st.lists(st.integers(1, 5), max_size=2),
)


def refusal_kind(message: str) -> str:
    """The kind of a refusal, from the start of its message ("the question is empty" -> "question is empty")."""
    for kind in ("question must be text", "question is empty", "no readable text", "characters; the limit",
                 "k must be", "vendor", "language", "no rows in language"):  # fmt: skip
        if kind in message:
            return kind
    return "other"


def check_result(assistant: Assistant, result: AskResult, k: object, vendor: object, language: object) -> None:
    """What any AskResult must satisfy: serialisable, at most k rows, all from the index and within the filters."""
    assert isinstance(result, AskResult)
    assert AskResult.model_validate_json(result.model_dump_json()) == result  # no unencodable text anywhere
    assert result.question.encode("utf-8")
    matches = ([result.answer] if result.answer else result.conflicting) + result.alternatives
    assert len(matches) <= result.k
    assert result.k == (assistant.settings.default_k if k is None else operator.index(k))  # type: ignore[arg-type]
    known = {row.id for row in assistant.rows}
    for match in [*matches, *result.outdated, *result.other_vendors]:
        assert match.row_id in known
        if result.vendor is not None:
            assert match.citation.vendor == result.vendor
    for match in matches:
        # A language filter chooses the rows searched; only a newer row that states an item otherwise (the
        # current version of a row that matched) is shown in another language.
        if language is not None and match.current_version_of is None:
            assert match.citation.language == language
    if isinstance(vendor, str) and vendor.strip():
        assert result.vendor_source in ("given", "question")
        if result.vendor_source == "question":  # the question named a vendor: it wins, and says what it overrode
            assert result.vendor_overridden in (None, assistant.names.resolve(vendor))


valid_vendors = st.sampled_from([None, "Acme", "Borealis", "acme", "ＡＣＭＥ"])
valid_languages = st.sampled_from([None, "en", "ja", "ko"])
valid_ks = st.one_of(st.none(), st.integers(1, 100))


def ask_and_check(assistant: Assistant, question: object, vendor: object, language: object, k: object) -> None:
    with outcome("questions"):
        try:
            result = assistant.ask(question, vendor=vendor, language=language, k=k)  # type: ignore[arg-type]
        except QuestionError as error:
            message = str(error)
            assert message
            message.encode("utf-8")  # shown by the UI and the CLI: must be encodable
            assert len(message) < 2000
            tally("questions", f"refused: {refusal_kind(message)}")
            return
        check_result(assistant, result, k, vendor, language)
        tally("questions", f"AskResult {result.status}")


@budget(300)
@given(question=questions, vendor=valid_vendors, language=valid_languages, k=valid_ks)
def test_any_question(assistant: Assistant, question: object, vendor: object, language: object, k: object) -> None:
    ask_and_check(assistant, question, vendor, language, k)


@budget(200)
@given(question=st.one_of(questions, NOT_TEXT), vendor=options, language=options, k=ks)
def test_any_question_and_options(
    assistant: Assistant, question: object, vendor: object, language: object, k: object
) -> None:
    ask_and_check(assistant, question, vendor, language, k)


def test_the_fuzz_fixture_answers(assistant: Assistant, tmp_path: Path) -> None:
    """The fuzzed assistant is a working one (a fuzz run against a broken fixture would prove nothing)."""
    result = assistant.ask("Is Acme ISO 27001 certified?")
    assert result.answer is not None
    assert result.answer.row_id == "acme/faq#1"
