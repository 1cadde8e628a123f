"""``python -m evals.bench``: measure this machine and print a table plus JSON (see evals/bench/README.md).

Every measurement runs in a fresh process (builds, one serving process per corpus size, cold starts), so
memory numbers belong to one size and one process, and a slow step cannot skew the next one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from evals.bench import cold
from evals.bench.report import table
from evals.bench.synthetic import cached, recipe

REPO_ROOT = Path(__file__).resolve().parents[2]
PARTS = ("build", "serve", "threads", "embeddings", "cold", "incremental", "readers")
#: The size whose incremental builds are measured (when it is among the sizes).
INCREMENTAL_SIZE = "100000"
#: (Settings.threads, Settings.search_threads) compared by the "threads" part; 0 means all cores.
THREAD_SETTINGS = (("0", "1"), ("1", "1"), ("0", "0"))


def _worker(module: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", f"evals.bench.{module}", *args]
    print(f"  $ {' '.join(command[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _machine() -> dict[str, Any]:
    model = "unknown"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line), model)
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _cache(work: Path, size: str) -> Path | None:
    """The build cache a size is built with (kept for the incremental part); none at 10^6 (1.6 GB of vectors)."""
    return None if size not in ("seed", "10000", INCREMENTAL_SIZE) else work / f"cache-{size}.sqlite3"


def _index_is_cached(index_dir: Path, size: int, backend: str) -> bool:
    """Whether a synthetic index of ``size`` with mixed vectors is already built for the current model."""
    from assistant.corpus import load_corpus
    from assistant.embedding.loading import bundled_model
    from assistant.settings import Settings

    settings = Settings.from_env(backend=backend)
    fingerprint = bundled_model(settings.model, settings.cache_dir).fingerprint  # the same for both backends
    return cached(index_dir, recipe(size, False, fingerprint, load_corpus(settings.corpus_dir)))


def _build(args: argparse.Namespace, size: str, skip: set[str], common: list[str]) -> dict[str, Any] | None:
    """Build the index of ``size`` in a worker, unless an index built the same way is there to reuse."""
    index_dir = args.work / f"index-{size}"
    real = size in ("seed", "10000") or int(size) <= 10_000
    cache = _cache(args.work, size)
    cached = not real and _index_is_cached(index_dir, int(size), args.backend)
    if cached and not args.rebuild and (cache is None or cache.is_file()):
        print(f"  reusing {index_dir} (--rebuild to build it again)", file=sys.stderr)
        return None
    if "build" in skip and (index_dir / "current" / "manifest.json").is_file() and real:
        return None
    flags = ["--real"] if real else []
    if cache is not None:
        flags += ["--cache", str(cache)]
    return _worker("building", "--size", size, "--index", str(index_dir), *common, *flags)


def _later_parts(args: argparse.Namespace, sizes: list[str], skip: set[str], common: list[str]) -> dict[str, Any]:
    """The incremental builds (10^5) and the readers during a build (seed), after everything else."""
    results: dict[str, Any] = {}
    if "incremental" not in skip and INCREMENTAL_SIZE in sizes:
        print("incremental builds (10^5)", file=sys.stderr)
        index_dir, cache = args.work / f"index-{INCREMENTAL_SIZE}", _cache(args.work, INCREMENTAL_SIZE)
        results["incremental"] = _worker(
            "incremental", "--size", INCREMENTAL_SIZE, "--index", str(index_dir), "--cache", str(cache), *common
        )
    if "readers" not in skip and "seed" in sizes:
        print("readers during a build (seed index)", file=sys.stderr)
        results["readers"] = _worker("readers", "--index", str(args.work / "index-seed"), *common)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__)
    parser.add_argument("--sizes", default="seed,10000,100000,1000000", help="comma-separated: seed and row counts")
    parser.add_argument("--questions", type=int, default=300, help="questions per size (EN/JA/KO in turn)")
    parser.add_argument(
        "--backend", default="onnx", choices=("torch", "onnx", "onnx-int8"), help="Settings.backend to measure"
    )
    parser.add_argument("--threads", type=int, default=0, help="Settings.threads (0: all cores)")
    parser.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {', '.join(PARTS)}")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "artifacts" / "bench", help="indexes and logs")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached 10^5/10^6 synthetic indexes")
    parser.add_argument("--profile", default="", help="comma-separated sizes to profile the ask loop of")
    parser.add_argument("--concurrency", default="1,4,16", help="concurrent askers measured per size ('' for none)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    skip = {part for part in args.skip.split(",") if part}
    if skip - set(PARTS):
        parser.error(f"unknown parts to skip: {', '.join(sorted(skip - set(PARTS)))}; known: {', '.join(PARTS)}")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    profiled = {s.strip() for s in args.profile.split(",") if s.strip()}
    args.work.mkdir(parents=True, exist_ok=True)
    common = ["--backend", args.backend, "--threads", str(args.threads)]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m evals.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": _machine(),
        "backend": args.backend,
        "threads": args.threads,
        "builds": {},
        "serving": {},
    }

    print("building indexes", file=sys.stderr)
    for size in sizes:
        built = _build(args, size, skip, common)
        if built is not None:
            results["builds"][size] = built

    if "serve" not in skip:
        print("serving", file=sys.stderr)
        for size in sizes:
            extra = ["--profile"] if size in profiled else []
            extra += ["--concurrency", args.concurrency] if args.concurrency else []
            index_dir = args.work / f"index-{size}"
            served = _worker("serving", "--index", str(index_dir), "--questions", str(args.questions), *common, *extra)
            results["serving"][size] = served

    if "threads" not in skip:
        print("threads: model / FAISS search (seed and 10^4)", file=sys.stderr)
        results["threads_compare"] = {}
        for size in [s for s in sizes if s in ("seed", "10000")]:
            for model_threads, search_threads in THREAD_SETTINGS:
                index_dir = args.work / f"index-{size}"
                results["threads_compare"][f"{size}/{model_threads}/{search_threads}"] = _worker(
                    "serving", "--index", str(index_dir), "--questions", str(args.questions), "--backend",
                    args.backend, "--threads", model_threads, "--search-threads", search_threads, "--no-reference",
                )  # fmt: skip

    if "embeddings" not in skip:
        print("inference paths: agreement and speed", file=sys.stderr)
        results["embeddings"] = _worker(
            "embeddings", "--questions", str(args.questions), "--backends", "onnx,onnx-int8"
        )

    if "cold" not in skip and "seed" in sizes:
        print("cold starts (seed index), both backends", file=sys.stderr)
        results["cold"] = {}
        for backend in ("torch", "onnx"):
            env = cold.environment(args.work / "index-seed", backend, args.threads)
            log = args.work / f"streamlit-{backend}.log"
            results["cold"][backend] = {"cli": cold.cli(env), "streamlit": cold.streamlit(env, log)}

    results.update(_later_parts(args, sizes, skip, common))

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
