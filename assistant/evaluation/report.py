"""Readable evaluation reports: report.json, report.md with the failures, and chart.png."""

from __future__ import annotations

from pathlib import Path

from assistant.evaluation.runner import RANKING_METRICS, EvalReport

_COLUMNS = (*RANKING_METRICS, "n")


_COUNTS = {"n", "questions", "correct", "got_answered", "got_conflict", "got_no_answer"}


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def _cell(column: str, value: object) -> str:
    """A table cell: counts as whole numbers (the JSON model stores them as floats), rates with 3 decimals."""
    if column in _COUNTS and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _fmt(value)


def _table(title: str, groups: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"### {title}", "", "| group | questions | " + " | ".join(_COLUMNS) + " |"]
    lines.append("|---|---:|" + "---:|" * len(_COLUMNS))
    for name, stats in groups.items():
        cells = [_cell(c, stats.get(c)) for c in _COLUMNS]
        lines.append(f"| {name} | {_cell('questions', stats.get('questions'))} | " + " | ".join(cells) + " |")
    return [*lines, ""]


_DECISION_COLUMNS = ("questions", "correct", "accuracy", "got_answered", "got_conflict", "got_no_answer")


def _decisions_table(decisions: dict[str, dict[str, float]]) -> list[str]:
    lines = [
        "## Decisions (answered / conflict / no answer)",
        "",
        "Right when: expected answered -> answered with a relevant first row (and every expected outdated row shown "
        "as outdated); expected conflict -> conflict showing every expected conflicting row; expected no answer -> "
        "no answer.",
        "",
        "| decision kind | " + " | ".join(_DECISION_COLUMNS) + " |",
        "|---|" + "---:|" * len(_DECISION_COLUMNS),
    ]
    for name, stats in decisions.items():
        lines.append(f"| {name} | " + " | ".join(_cell(c, stats.get(c)) for c in _DECISION_COLUMNS) + " |")
    return [*lines, ""]


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(report: EvalReport) -> str:
    """The report as markdown: headline numbers, breakdowns, abstention and every failure."""
    overall = report.overall
    abstention = report.abstention
    lines = [
        f"# Evaluation: {report.questions_file}",
        "",
        f"Model `{report.model}`, "
        + (f"calibration `{report.calibration}`, " if report.calibration else "no calibration, ")
        + f"threshold {report.threshold:.3f}, {report.n_questions} questions, "
        f"{report.created_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "## Retrieval (answerable questions)",
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---:|" * len(_COLUMNS),
        "| " + " | ".join(_cell(c, overall.get(c)) for c in _COLUMNS) + " |",
        "",
        *_table("By language", report.by_language),
        *_table("By vendor", report.by_vendor),
        *_table("By kind", report.by_kind),
        *_table("Questionnaire-style questions and the others", report.by_set),
        *_table(
            "Questionnaire-style questions by language (and their cross-lingual ones)", report.questionnaire_by_language
        ),
        *_decisions_table(report.decisions),
        '## Abstention ("no reliable answer")',
        "",
        f"- AUROC of the confidence, answerable vs unanswerable: {_fmt(abstention.get('auroc'))} (questions whose "
        f"expected state is a conflict left out: the decisions table judges them); over every question "
        f"{_fmt(abstention.get('auroc_all_questions'))}, over the questions that are not decision cases "
        f"{_fmt(abstention.get('auroc_plain'))}",
        f"- At the operating threshold {report.threshold:.3f}: answered correct {abstention['answered_correct']}, "
        f"answered wrong {abstention['answered_wrong']}, abstained {abstention['abstained']} "
        f"({abstention['abstained_unanswerable']} unanswerable, {abstention['abstained_answerable']} answerable)",
        f"- False-answer rate {_fmt(abstention['false_answer_rate'])}, coverage {_fmt(abstention['coverage'])}",
        "",
        f"## Latency per question: p50 {report.latency_ms['p50']:.1f} ms, p95 {report.latency_ms['p95']:.1f} ms",
        "",
        "## Failures",
        "",
        "| id | question | expected | what came first | rank of right row | status | confidence |",
        "|---|---|---|---|---:|---|---:|",
    ]
    for o in report.failures():
        expected = ", ".join(o.expected[:3]) + (" …" if len(o.expected) > 3 else "") if o.expected else "no answer"
        first = f"{o.ranked[0]}: {o.top_answer[:90]}" if o.ranked else "-"
        rank = _fmt(o.first_relevant_rank) if o.answerable else "-"
        lines.append(
            f"| {o.id} | {_escape(o.question)} | {_escape(expected)} | {_escape(first)} | {rank} | {o.status} | "
            f"{o.confidence:.3f} |"
        )
    lines += [
        "",
        "## Decision failures (decision-case questions)",
        "",
        "| id | kind | question | expected | got | first row | shown outdated | shown conflicting |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in report.decision_failures():
        expected = o.expected_status + (f", outdated {', '.join(o.expected_outdated)}" if o.expected_outdated else "")
        lines.append(
            f"| {o.id} | {o.decision_kind} | {_escape(o.question)} | {_escape(expected)} | {o.status} | "
            f"{o.ranked[0] if o.ranked else '-'} | {', '.join(o.outdated) or '-'} | {', '.join(o.conflicting) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def write_chart(report: EvalReport, path: Path) -> None:
    """Per-language hit@1 and MRR@10 bars beside the risk–coverage curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    languages = [k for k, v in report.by_language.items() if v.get("n")]
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(11, 4.2))
    xs = range(len(languages))
    bars.bar([x - 0.2 for x in xs], [report.by_language[k]["hit@1"] for k in languages], 0.4, label="hit@1")
    bars.bar([x + 0.2 for x in xs], [report.by_language[k]["mrr@10"] for k in languages], 0.4, label="MRR@10")
    bars.set_xticks(list(xs), languages)
    bars.set_ylim(0, 1)
    bars.set_title("Retrieval by question language")
    bars.legend(loc="lower right")
    points = report.abstention.get("risk_coverage") or []
    if points:
        curve.plot([p[0] for p in points], [p[1] for p in points], marker=".", linewidth=1)
    abstention = report.abstention
    curve.scatter(
        [abstention["coverage"]],
        [abstention["false_answer_rate"]],
        color="red",
        zorder=3,
        label=f"operating point (threshold {report.threshold:.2f})",
    )
    curve.set_xlabel("coverage (fraction answered)")
    curve.set_ylabel("risk (fraction of answers wrong)")
    curve.set_xlim(0, 1)
    curve.set_ylim(0, 1)
    curve.set_title("Risk–coverage")
    curve.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: EvalReport, out_dir: Path) -> list[Path]:
    """Write report.json, report.md and chart.png into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "chart.png"]
    paths[0].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    paths[1].write_text(markdown_report(report), encoding="utf-8")
    write_chart(report, paths[2])
    return paths
