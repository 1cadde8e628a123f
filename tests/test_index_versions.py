"""Readers never wait for a build, a build killed at any step leaves an index that serves, and a build that
waited for another reuses its result (issue 16, finding 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from assistant.corpus import load_corpus
from assistant.embedding import HashingEmbedder, load_embedder
from assistant.errors import IndexStaleError
from assistant.index import build_index, open_index, versions
from assistant.index import folder as index_folder
from assistant.index.folder import StoredIndex
from assistant.settings import Settings

from conftest import REPO_ROOT, TINY_ROWS

NEW_BULLET = "- Restores are tested every quarter.\n"


def _build(settings: Settings) -> StoredIndex:
    return build_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings))


def _add_a_bullet(settings: Settings) -> None:
    faq = settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8") + NEW_BULLET, encoding="utf-8")


def _environment(settings: Settings) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT),
        ASSISTANT_MODEL="hashing",
        ASSISTANT_CORPUS_DIR=str(settings.corpus_dir),
        ASSISTANT_INDEX_DIR=str(settings.index_dir),
        ASSISTANT_CACHE_DIR=str(settings.cache_dir),
    )


def _build_killed_at(settings: Settings, step: str) -> None:
    """Build the index in another process that kills itself (SIGKILL) right after ``step`` of publishing."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from assistant.corpus import load_corpus
        from assistant.embedding import load_embedder
        from assistant.index import build_index, versions
        from assistant.settings import Settings

        def stop(step):
            if step == {step!r}:
                os.kill(os.getpid(), signal.SIGKILL)

        versions.crash_hook = stop
        settings = Settings.from_env()
        build_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=_environment(settings), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize("step", versions.STEPS)
def test_a_build_killed_at_any_step_of_the_swap_leaves_an_index_that_serves(
    hashing_settings: Settings, step: str
) -> None:
    before = _build(hashing_settings)
    before.close()
    _add_a_bullet(hashing_settings)
    _build_killed_at(hashing_settings, step)
    served = index_folder.load(hashing_settings.index_dir)  # complete and checked, whichever it is
    switched = versions.STEPS.index(step) >= versions.STEPS.index("switched")
    assert served.manifest.rows == (TINY_ROWS + 1 if switched else TINY_ROWS)
    assert (served.path == before.path) is not switched
    served.close()
    after = open_index(hashing_settings, load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings))
    assert after.manifest.rows == TINY_ROWS + 1
    assert after.rows[3].answer == "Restores are tested every quarter."
    assert not [p for p in hashing_settings.index_dir.iterdir() if p.name.startswith((".staging-", ".current-"))]


@pytest.mark.parametrize("step", ["placed", "linked"])
def test_a_first_build_killed_after_its_version_was_complete_is_recovered_without_building(
    hashing_settings: Settings, step: str
) -> None:
    _build_killed_at(hashing_settings, step)
    assert not (hashing_settings.index_dir / "current").exists()
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    recovered = open_index(hashing_settings, corpus, embedder, rebuild=False)
    assert recovered.manifest.rows == TINY_ROWS
    assert (hashing_settings.index_dir / "current").resolve() == recovered.path


def test_a_reader_does_not_wait_for_a_build(hashing_settings: Settings) -> None:
    built = _build(hashing_settings)
    with versions.build_lock(hashing_settings.index_dir):
        found: list[StoredIndex] = []
        corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
        reader = threading.Thread(target=lambda: found.append(open_index(hashing_settings, corpus, embedder)))
        reader.start()
        reader.join(timeout=120)  # it would wait forever for the lock this thread holds
        assert not reader.is_alive()
        assert [index.path for index in found] == [built.path]


def test_ask_no_build_answers_from_the_current_index_while_a_build_holds_the_lock(hashing_settings: Settings) -> None:
    _build(hashing_settings)
    with versions.build_lock(hashing_settings.index_dir):
        done = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "ask", "--no-build", "--json", "Are backups encrypted?"],
            env=_environment(hashing_settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert '"row_id": "acme/faq#3"' in done.stdout


def test_a_stale_index_during_a_build_is_refused_at_once_and_says_a_build_is_running(
    hashing_settings: Settings,
) -> None:
    _build(hashing_settings)
    _add_a_bullet(hashing_settings)
    corpus, embedder = load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings)
    with versions.build_lock(hashing_settings.index_dir):
        errors: list[IndexStaleError] = []

        def ask() -> None:
            try:
                open_index(hashing_settings, corpus, embedder, rebuild=False)
            except IndexStaleError as exc:
                errors.append(exc)

        reader = threading.Thread(target=ask)
        reader.start()
        reader.join(timeout=120)
        assert not reader.is_alive()
    assert len(errors) == 1
    assert "a build is running now" in str(errors[0])
    assert "document changed: acme/faq" in str(errors[0])


class _HeldEmbedder(HashingEmbedder):
    """Embeds like the hashing embedder, but waits to be let go once it started (the build holds the lock)."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.go = threading.Event()

    def embed_passages(self, texts: Sequence[str], **kwargs: Any) -> npt.NDArray[np.float32]:
        self.started.set()
        assert self.go.wait(timeout=120)
        return super().embed_passages(texts, **kwargs)


@pytest.mark.parametrize("force", [False, True])
def test_a_build_that_waited_for_another_reuses_its_result(
    hashing_settings: Settings, monkeypatch: pytest.MonkeyPatch, force: bool
) -> None:
    published: list[Path] = []
    publish = versions.publish

    def counting(index_dir: Path, staging: Path) -> Path:
        published.append(publish(index_dir, staging))
        return published[-1]

    monkeypatch.setattr(versions, "publish", counting)
    corpus = load_corpus(hashing_settings.corpus_dir)
    held = _HeldEmbedder()
    results: dict[str, StoredIndex] = {}
    first = threading.Thread(target=lambda: results.update(first=build_index(hashing_settings, corpus, held)))
    first.start()
    assert held.started.wait(timeout=120)  # the first build holds the lock now
    second = threading.Thread(
        target=lambda: results.update(second=build_index(hashing_settings, corpus, HashingEmbedder(), force=force))
    )
    second.start()
    held.go.set()
    first.join(timeout=120)
    second.join(timeout=120)
    assert len(published) == 1
    assert results["first"].path == results["second"].path == published[0]


def test_an_old_version_stays_while_a_reader_holds_it_and_goes_after(hashing_settings: Settings) -> None:
    first = _build(hashing_settings)
    _add_a_bullet(hashing_settings)
    second = _build(hashing_settings)
    assert first.path.is_dir()  # still served by `first`
    assert first.rows[0].id == "acme/faq#1"
    first.close()
    faq = hashing_settings.corpus_dir / "acme" / "faq.md"
    faq.write_text(faq.read_text(encoding="utf-8").replace(NEW_BULLET, ""), encoding="utf-8")
    third = _build(hashing_settings)
    assert not first.path.exists()
    assert second.path.is_dir()  # `second` is still open
    assert sorted(p.name for p in versions.versions(hashing_settings.index_dir)) == sorted(
        [second.path.name, third.path.name]
    )


def test_a_folder_of_the_previous_format_is_replaced_by_a_versioned_one(hashing_settings: Settings) -> None:
    old = hashing_settings.index_dir
    old.mkdir()
    for name in ("rows.jsonl", "index.faiss", "lexical.npz", "links.jsonl"):
        (old / name).write_text("{}", encoding="utf-8")
    old_manifest = (
        '{"format": 4, "model": "hashing", "model_fingerprint": "f", "passage_format": 3, "rows_sha256": "0"}'
    )
    (old / "manifest.json").write_text(old_manifest, encoding="utf-8")
    (old / "my-notes.txt").write_text("not the index's", encoding="utf-8")
    built = _build(hashing_settings)
    assert sorted(p.name for p in old.iterdir() if not p.name.startswith(".")) == [
        "current",
        "my-notes.txt",
        built.path.name,
    ]


def test_building_into_a_folder_of_other_files_keeps_every_one_of_them(hashing_settings: Settings) -> None:
    """Files named like an old index's but not one (no old manifest), and a 'current' folder, are a user's."""
    folder = hashing_settings.index_dir
    (folder / "current").mkdir(parents=True)
    (folder / "current" / "report.txt").write_text("mine", encoding="utf-8")
    for name in ("manifest.json", "rows.jsonl", "index.faiss"):
        (folder / name).write_text(f"my {name}", encoding="utf-8")
    built = _build(hashing_settings)
    assert (folder / "current").resolve() == built.path
    moved = [p for p in folder.iterdir() if p.name.startswith("current.moved-")]
    assert len(moved) == 1
    assert (moved[0] / "report.txt").read_text(encoding="utf-8") == "mine"
    for name in ("manifest.json", "rows.jsonl", "index.faiss"):
        assert (folder / name).read_text(encoding="utf-8") == f"my {name}"
    assert open_index(hashing_settings, load_corpus(hashing_settings.corpus_dir), load_embedder(hashing_settings))
