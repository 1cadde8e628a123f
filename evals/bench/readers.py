"""Readers during a build: ``assistant ask --no-build`` timed over a built index, then again while another
process rebuilds that index (forced, from an empty cache, so the build holds its lock for a while; at nice 19).

Run by ``python -m evals.bench``; prints one JSON object. By hand::

    python -m evals.bench.readers --index artifacts/bench/index-seed
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from assistant.index import versions
from assistant.index.folder import read_manifest
from evals.bench.cold import QUESTION, environment

REPO_ROOT = Path(__file__).resolve().parents[2]
# The build runs at the lowest priority: what is measured is whether readers wait for it, not how they share
# two cores with it.
_BUILD = textwrap.dedent(
    """
    import os
    os.nice(19)
    from assistant.corpus import load_corpus
    from assistant.embedding import load_embedder
    from assistant.index import build_index
    from assistant.memo import DictMemo
    from assistant.settings import Settings

    settings = Settings.from_env()
    build_index(settings, load_corpus(settings.corpus_dir), load_embedder(settings), force=True, memo=DictMemo())
    """
)


def _ask(env: dict[str, str]) -> tuple[float, str]:
    """Seconds from start to exit of ``assistant ask --no-build --json``, and the build time it answered from."""
    command = [sys.executable, "-m", "assistant.cli", "ask", "--no-build", "--json", QUESTION]
    begin = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        raise RuntimeError(f"ask --no-build failed ({done.returncode}): {done.stderr[-2000:]}")
    return round(seconds, 2), str(json.loads(done.stdout)["index_built_at"])


def measure(index_dir: Path, backend: str, threads: int, runs: int = 3) -> dict[str, Any]:
    env = environment(index_dir, backend, threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise RuntimeError(f"no index in {index_dir}: build it first")
    _ask(env)  # fills the page cache, as for a running server
    alone = [_ask(env)[0] for _ in range(runs)]
    build = subprocess.Popen([sys.executable, "-c", _BUILD], env=env, cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    started = time.perf_counter()
    while not versions.building_now(index_dir):
        if build.poll() is not None or time.perf_counter() - started > 300:
            raise RuntimeError(f"the build did not take the lock: {build.stderr.read() if build.stderr else ''}")
        time.sleep(0.05)
    during, answered_from = [], set()
    for _ in range(runs):
        seconds, built_at = _ask(env)
        during.append(seconds)
        answered_from.add(built_at)
    still_building = versions.building_now(index_dir)
    build.wait(timeout=1800)
    return {
        "ask_seconds_alone": alone,
        "ask_seconds_during_build": during,
        "median_alone": statistics.median(alone),
        "median_during_build": statistics.median(during),
        "answered_from_the_old_index": answered_from == {manifest.built_at.isoformat().replace("+00:00", "Z")},
        "build_still_running_after_the_asks": still_building,
        "build_seconds": round(time.perf_counter() - started, 1),
        "build_exit": build.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--backend", default="onnx", choices=("onnx", "torch"))
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    json.dump(measure(args.index, args.backend, args.threads), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
