"""Report: an evaluation run -> one self-contained report.html (inline CSS and SVG charts, no
script, no network): metric summary, distributions, the worst questions with their answers and
cited passages, and every question in a table."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.evaluate.metrics import metric_text
from rag.evaluate.scoring import RECALL_KS, STAGES, cited_passages, correct
from rag.types import EvalRecord, RunInfo

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #dde;
padding-bottom:4px}
.meta{color:#5a6275;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e0e3ea;border-radius:8px;padding:10px 14px}
.card h3{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:#5a6275;margin:0 0 6px}
.card table{width:100%;border-collapse:collapse}.card td{padding:1px 0}
.card td.v{text-align:right;font-variant-numeric:tabular-nums;font-weight:600;padding-left:10px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
.chart{background:#fff;border:1px solid #e0e3ea;border-radius:8px;padding:10px}
.chart h3{font-size:13px;margin:0 0 6px}
details{background:#fff;border:1px solid #e0e3ea;border-radius:8px;margin:8px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;background:#f3f4f7;padding:8px;border-radius:6px;font:13px/1.4
ui-monospace,Menlo,Consolas,monospace}
.passage{border-left:3px solid #9db3d9;padding:2px 10px;margin:6px 0;color:#303849}
.cut{color:#9a3b2e}
table.all{width:100%;border-collapse:collapse;background:#fff;font-size:13px}
table.all th,table.all td{border-bottom:1px solid #e7e9ef;padding:4px 6px;text-align:left}
table.all td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1d7a3a}.bad{color:#b3261e}.na{color:#8a90a0}
"""

_COLORS = {"accepted": "#2e8b57", "repaired": "#d9a21b", "abstained": "#b3261e"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(
    rows: Sequence[tuple[str, float]],
    top: float,
    unit: str = "",
    colors: Sequence[str] = (),
) -> str:
    """Horizontal bars, one a row, scaled to `top`; the value printed at the bar's end."""
    width, label_w, row_h = 330, 110, 22
    top = top or 1.0
    parts = [
        f'<svg width="{width}" height="{row_h * len(rows) + 4}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12">'
    ]
    for i, (label, value) in enumerate(rows):
        y = i * row_h + 2
        w = max(0.0, min(1.0, value / top)) * (width - label_w - 60)
        color = colors[i] if i < len(colors) else "#4a78c2"
        parts.append(
            f'<text x="0" y="{y + 15}">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{color}" rx="2"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{value:.3g}{_e(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: Sequence[float], low: float, high: float, bins: int, label: str) -> str:
    """Vertical bars counting `values` in `bins` equal bins over [low, high] (the top bin holds
    `high`); axis labels at both ends."""
    counts = [0] * bins
    span = (high - low) or 1.0
    for v in values:
        i = int((min(max(v, low), high) - low) / span * bins)
        counts[min(i, bins - 1)] += 1
    width, height, pad = 330, 130, 18
    most = max(counts) or 1
    bar_w = (width - 2 * pad) / bins
    parts = [
        f'<svg width="{width}" height="{height + 30}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="11">'
    ]
    for i, c in enumerate(counts):
        h = c / most * (height - 20)
        x = pad + i * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            f'fill="#4a78c2"><title>{c}</title></rect>'
        )
        if c:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - h - 3:.1f}" '
                f'text-anchor="middle">{c}</text>'
            )
    parts.append(
        f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" stroke="#888"/>'
        f'<text x="{pad}" y="{height + 14}">{low:g}</text>'
        f'<text x="{width - pad}" y="{height + 14}" text-anchor="end">{high:.3g}</text>'
        f'<text x="{width / 2}" y="{height + 27}" text-anchor="middle">{_e(label)}</text></svg>'
    )
    return "".join(parts)


def _card(title: str, group: dict[str, Any] | None) -> str:
    if not group:
        return ""
    rows = "".join(
        f"<tr><td>{_e(k)}</td><td class='v'>{_e(metric_text(v))}</td></tr>"
        for k, v in group.items()
        if not isinstance(v, dict)
    )
    nested = "".join(
        f"<tr><td>{_e(k)}: {_e(n)}</td><td class='v'>{_e(c)}</td></tr>"
        for k, v in group.items()
        if isinstance(v, dict)
        for n, c in v.items()
    )
    return f"<div class='card'><h3>{_e(title)}</h3><table>{rows}{nested}</table></div>"


def _charts(metrics: dict[str, Any], records: Sequence[EvalRecord]) -> str:
    charts: list[tuple[str, str]] = []
    r = metrics.get("retrieval") or {}
    if r.get("questions"):
        keys = [*(f"recall@{k}" for k in RECALL_KS), "mrr", "ndcg@10", "all_evidence@10"]
        charts.append(("Retrieval (source level)", bar_chart([(k, r[k] or 0.0) for k in keys], 1)))
    answered = [x for x in records if x.answer is not None and not x.error]
    c = metrics.get("citations") or {}
    if c.get("status"):
        rows = [(s, float(c["status"].get(s, 0))) for s in _COLORS]
        colors = list(_COLORS.values())
        charts.append(("Validator status", bar_chart(rows, max(v for _, v in rows), "", colors)))
    f1s = [f for x in answered if x.answerable and (f := x.scores.get("f1")) is not None]
    if f1s:
        charts.append(("Token F1 of the summary (answerable)", histogram(f1s, 0, 1, 10, "F1")))
    recalls = [x.retrieval["recall@10"] for x in records if x.retrieval]
    if recalls:
        charts.append(("Recall@10 per question", histogram(recalls, 0, 1, 5, "recall@10")))
    totals = [
        x.answer.timings["total"] for x in answered if x.answer and "total" in x.answer.timings
    ]
    if totals:
        charts.append(
            ("Answer latency", histogram(totals, 0, max(totals), 10, "seconds per question"))
        )
    cost = metrics.get("cost") or {}
    stages = [(f"{s} p50", cost.get(f"{s}_p50_s") or 0.0) for s in STAGES] + [
        (f"{s} p95", cost.get(f"{s}_p95_s") or 0.0) for s in ("generate", "validate", "total")
    ]
    if any(v for _, v in stages):
        charts.append(("Latency per stage", bar_chart(stages, max(v for _, v in stages), " s")))
    return "".join(f"<div class='chart'><h3>{_e(t)}</h3>{svg}</div>" for t, svg in charts)


def _badness(record: EvalRecord) -> tuple[int, float, float]:
    """Sort key, worst first: wrong before right, then low F1, then low retrieval recall."""
    ok = correct(record)
    f1 = record.scores.get("f1")
    return (
        0 if ok is False else 1 if ok is None else 2,
        f1 if f1 is not None else 1.0,
        record.retrieval.get("recall@10", 1.0),
    )


def _question(record: EvalRecord, open_: bool = False) -> str:
    a = record.answer
    kind = "answerable" if record.answerable else "unanswerable"
    scores = ", ".join(f"{k} {metric_text(v)}" for k, v in record.scores.items())
    parts = [
        f"<details{' open' if open_ else ''}><summary>{_e(record.question)} "
        f"<span class='meta'>({_e(record.id)}; {kind}"
        f"{'; ' + _e(a.status) if a else ''})</span></summary>",
        f"<p class='meta'>gold: {_e(' | '.join(record.gold_answers) or '(abstain)')}; "
        f"evidence: {_e(', '.join(record.evidence) or 'none')}; "
        f"retrieved: {_e(', '.join(dict.fromkeys(record.ranked_sources[:10])))}</p>",
    ]
    if record.error:
        parts.append(f"<p class='bad'>failed: {_e(record.error)}</p>")
    if a is not None:
        parts.append(f"<p class='meta'>{_e(scores)}</p><pre>{_e(a.text)}</pre>")
        passages = cited_passages(a)
        for cite in a.citations:
            parts.append(
                f"<div class='passage'><b>[{cite.n}] {_e(cite.title)}</b> "
                f"<span class='meta'>{_e(cite.source_id)}</span><br>"
                f"{_e(passages.get(cite.n, ''))}</div>"
            )
        for cut in a.dropped_sentences:
            parts.append(f"<p class='cut'>cut: {_e(cut.text)} ({_e(cut.reason)})</p>")
    parts.append("</details>")
    return "".join(parts)


def _table(records: Sequence[EvalRecord]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("id", "question", "ans.", "status", "right", "F1", "R@10", "cit. recall", "s")
    )
    rows = []
    for r in records:
        ok = correct(r)
        mark = {
            True: "<span class='ok'>yes</span>",
            False: "<span class='bad'>no</span>",
            None: "<span class='na'>n/a</span>",
        }[ok]
        status = r.answer.status if r.answer else ("failed" if r.error else "")
        rows.append(
            f"<tr><td>{_e(r.id)}</td><td>{_e(r.question)}</td><td>{'yes' if r.answerable else 'no'}"
            f"</td><td style='color:{_COLORS.get(status, '#333')}'>{_e(status)}</td><td>{mark}</td>"
            f"<td class='n'>{_e(metric_text(r.scores.get('f1')))}</td>"
            f"<td class='n'>{_e(metric_text(r.retrieval.get('recall@10')))}</td>"
            f"<td class='n'>{_e(metric_text(r.scores.get('citation_recall')))}</td>"
            f"<td class='n'>{r.seconds:.1f}</td></tr>"
        )
    return f"<table class='all'><tr>{head}</tr>{''.join(rows)}</table>"


def render_report(
    info: RunInfo, metrics: dict[str, Any], records: Sequence[EvalRecord], worst: int = 10
) -> str:
    """The report as one HTML document."""
    cards = "".join(
        _card(title, metrics.get(key))
        for title, key in (
            ("Retrieval", "retrieval"),
            ("Answers", "answers"),
            ("Abstention", "abstention"),
            ("Citations", "citations"),
            ("Depth (answers shown)", "depth"),
            ("Cost", "cost"),
        )
    )
    ordered = sorted(records, key=_badness)
    shown = [r for r in ordered if correct(r) is not True][:worst]
    mode = "retrieval only" if info.retrieval_only else f"model {info.model}"
    # The worst three open: the first thing a reader should look at.
    worst_html = (
        "".join(_question(r, i < 3) for i, r in enumerate(shown))
        or "<p>Every question was handled right.</p>"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>rag eval: {_e(Path(info.gold).name)}</title><style>{_CSS}</style></head><body>"
        f"<main><h1>rag eval: {_e(info.gold)}</h1><p class='meta'>{len(records)} questions; "
        f"{_e(mode)}; validator {_e(info.validate_mode)}; {_e(info.search_mode)} search; index "
        f"version {info.index_version} at {_e(info.index_dir)}; started {_e(info.started)}; "
        f"{metrics.get('failed', 0)} failed</p>"
        f"<h2>Metrics</h2><div class='cards'>{cards}</div>"
        f"<h2>Distributions</h2><div class='charts'>{_charts(metrics, records)}</div>"
        f"<h2>Worst questions</h2>{worst_html}"
        f"<h2>Every question</h2>{_table(records)}</main></body></html>\n"
    )


def write_report(
    path: Path, info: RunInfo, metrics: dict[str, Any], records: Sequence[EvalRecord]
) -> None:
    """Write report.html."""
    path.write_text(render_report(info, metrics, records), encoding="utf-8")
