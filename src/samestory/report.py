"""Report a Comparison: a terminal report (rich) and a self-contained HTML page.

The HTML shows both articles side by side. Every shared passage is highlighted in the same
colour on both sides (solid for verbatim, dashed outline for paraphrase); hovering or
clicking a passage lights its partner on the other side and scrolls to it; text that only one
side has is grey italic on a grey ground; cleaning repairs are underlined with a dotted line.
All article text is escaped. The web UI reuses :func:`comparison_fragment` with
:data:`REPORT_CSS` and :data:`REPORT_JS`.
"""

from __future__ import annotations

import html
import itertools
from typing import Any

from samestory.document import Comparison, Document

__all__ = [
    "REPORT_CSS",
    "REPORT_JS",
    "comparison_fragment",
    "comparison_html",
    "print_report",
    "query_html",
]

_VERDICT_STYLE = {
    "duplicate": "bold white on red",
    "reuse": "bold white on dark_orange",
    "rewrite": "bold black on yellow",
    "same-story": "bold white on blue",
    "related": "bold white on grey37",
    "unrelated": "bold white on grey23",
}


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_report(comparison: Comparison, *, console: Any = None) -> None:
    """Print a readable report: verdict, scores, passages side by side, unique text, origin.

    Args:
        comparison: what :func:`samestory.compare` returned.
        console: a ``rich.console.Console`` (default: a new one on stdout).
    """
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    con = console or Console()
    c = comparison
    head = Text()
    head.append(f" {c.verdict.upper()} ", style=_VERDICT_STYLE.get(c.verdict, "bold"))
    head.append(f"  {c.rule}")
    names = []
    for side, d in (("a", c.a), ("b", c.b)):
        label = d.title or d.id
        extra = ", ".join(x for x in (d.source, d.published) if x)
        names.append(f"[bold]{side}[/]: {label}" + (f" ({extra})" if extra else ""))
    con.print(Panel(head, title="samestory compare", subtitle=None, expand=True))
    for line in names:
        con.print(line, markup=True, highlight=False)

    scores = Table(title="Scores", show_header=True, header_style="bold", expand=False)
    scores.add_column("score")
    scores.add_column("a", justify="right")
    scores.add_column("b", justify="right")
    s = c.scores
    scores.add_row(
        "containment (share of side in the other)", _fmt(s.containment_a), _fmt(s.containment_b)
    )
    scores.add_row("verbatim coverage", _fmt(s.verbatim_a), _fmt(s.verbatim_b))
    scores.add_row("paraphrase coverage", _fmt(s.paraphrase_a), _fmt(s.paraphrase_b))
    scores.add_row("aligned coverage", _fmt(s.aligned_a), _fmt(s.aligned_b))
    for name in ("jaccard", "semantic", "lexical", "entities", "place", "time", "overall"):
        scores.add_row(name, _fmt(getattr(s, name)), "")
    con.print(scores)

    origin = Text(f"Origin: {c.origin.side}", style="bold")
    con.print(origin)
    for ev in c.origin.evidence:
        con.print(f"  - {ev}", markup=False, highlight=False)

    if c.passages:
        table = Table(title="Shared passages", show_lines=True, expand=True)
        table.add_column("#", justify="right", width=3)
        table.add_column("kind", width=10)
        table.add_column("a", ratio=1)
        table.add_column("b", ratio=1)
        for n, p in enumerate(c.passages, 1):
            style = "green" if p.kind == "verbatim" else "cyan"
            table.add_row(
                str(n),
                Text(f"{p.kind}\n{p.score:.2f}", style=style),
                Text(_short(p.a_text)),
                Text(_short(p.b_text)),
            )
        con.print(table)
    else:
        con.print("No shared passages.")
    for side, spans in (("a", c.unique_a), ("b", c.unique_b)):
        if spans:
            con.print(f"[bold]Only in {side}[/] ({len(spans)} passages):", highlight=False)
            for u in spans:
                con.print(Text(f"  [{u.start}:{u.end}] {_short(u.text, 160)}", style="dim"))
    for side, actions in (("a", c.cleaning_a), ("b", c.cleaning_b)):
        if actions:
            kinds: dict[str, int] = {}
            for act in actions:
                kinds[act.kind] = kinds.get(act.kind, 0) + 1
            summary = ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items()))
            con.print(f"Cleaning {side}: {summary}", highlight=False)
    for note in c.notes:
        con.print(f"[yellow]Note:[/] {note}", highlight=False)


# --- HTML --------------------------------------------------------------------------------

REPORT_CSS = """
.ss-compare {
  font-family:system-ui,-apple-system,Segoe UI,sans-serif;
  color:#1d1d1f;
  max-width:1400px;
  margin:0 auto;
  padding:1rem;
}
.ss-compare .ss-head{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin-bottom:.5rem}
.ss-compare .ss-verdict {
  font-size:1.4rem;
  font-weight:700;
  padding:.2rem .7rem;
  border-radius:.4rem;
  color:#fff;
  background:#555;
}
.ss-compare .v-duplicate{background:#c0392b}
.ss-compare .v-reuse{background:#d35400}
.ss-compare .v-rewrite{background:#b7950b}
.ss-compare .v-same-story{background:#2462a8}
.ss-compare .v-related{background:#6c6c6c}
.ss-compare .v-unrelated{background:#3a3a3a}
.ss-compare .ss-rule{color:#555}
.ss-compare table.ss-scores{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
.ss-compare table.ss-scores td,.ss-compare table.ss-scores th {
  padding:.15rem .6rem;
  border-bottom:1px solid #eee;
  text-align:right;
}
.ss-compare table.ss-scores th:first-child,.ss-compare table.ss-scores td:first-child {
  text-align:left;
}
.ss-compare .ss-origin{font-size:.9rem;margin:.5rem 0}
.ss-compare .ss-legend{font-size:.8rem;color:#555;margin:.4rem 0}
.ss-compare .ss-cols{display:grid;grid-template-columns:1fr 1fr;gap:1.2rem}
.ss-compare .ss-doc h2{font-size:1rem;margin:.2rem 0}
.ss-compare .ss-doc .ss-meta{font-size:.8rem;color:#666;margin-bottom:.4rem}
.ss-compare .ss-text {
  white-space:pre-wrap;
  line-height:1.55;
  font-size:.95rem;
  border:1px solid #ddd;
  border-radius:.4rem;
  padding:.8rem;
  max-height:80vh;
  overflow:auto;
}
.ss-compare mark {
  background:hsl(var(--h),75%,84%);
  color:inherit;
  border-radius:.2rem;
  cursor:pointer;
}
.ss-compare mark.paraphrase {
  background:hsl(var(--h),60%,92%);
  outline:1px dashed hsl(var(--h),50%,45%);
}
.ss-compare mark.hot{background:hsl(var(--h),85%,65%);outline:2px solid hsl(var(--h),70%,35%)}
.ss-compare .unique{color:#5f5f5f;font-style:italic;background:#eeeeee;border-radius:.2rem}
.ss-compare .cleaned{text-decoration:underline dotted #b03a2e;text-underline-offset:3px}
@media (max-width:800px){.ss-compare .ss-cols{grid-template-columns:1fr}
"""

REPORT_JS = """
(function(){
  document.querySelectorAll('.ss-compare').forEach(function(root){
  function all(p){return root.querySelectorAll('mark[data-p="'+p+'"]');}
  root.querySelectorAll('mark[data-p]').forEach(function(m){
    var p=m.getAttribute('data-p');
    m.addEventListener('mouseenter',function(){all(p).forEach(function(x){x.classList.add('hot');});});
    m.addEventListener('mouseleave',function(){all(p).forEach(function(x){x.classList.remove('hot');});});
    m.addEventListener('click',function(){
      var side=m.getAttribute('data-side')==='a'?'b':'a';
      var t=root.querySelector('mark[data-p="'+p+'"][data-side="'+side+'"]');
      if(t){t.scrollIntoView({behavior:'smooth',block:'center'});}
    });
  });
  });
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _article_html(text: str, side: str, comparison: Comparison) -> str:
    """The article with passage marks, unique text and cleaning repairs, all escaped."""
    layers: list[tuple[int, int, str, str]] = []  # start, end, layer, attrs or class
    for n, p in enumerate(comparison.passages):
        s, e = p.a_span if side == "a" else p.b_span
        hue = (n * 137) % 360
        other = "b" if side == "a" else "a"
        title = f"{p.kind} #{n + 1} ({p.score:.2f}) - shared with {other}"
        attrs = (
            f'class="{p.kind}" data-p="{n}" data-side="{side}" style="--h:{hue}" '
            f'title="{_e(title)}"'
        )
        layers.append((s, e, "mark", attrs))
    for u in comparison.unique_a if side == "a" else comparison.unique_b:
        layers.append((u.start, u.end, "unique", ""))
    for act in comparison.cleaning_a if side == "a" else comparison.cleaning_b:
        if act.end > act.start:
            label = f"cleaned ({act.kind}): {act.before!r} -> {act.after!r}"
            layers.append((act.start, act.end, "cleaned", f'title="{_e(label)}"'))
    rank = {"cleaned": 0, "mark": 1, "unique": 2}  # innermost first
    starting: dict[int, list[int]] = {}
    for n, (s, e, _, _) in enumerate(layers):
        if e > s:
            starting.setdefault(s, []).append(n)
    bounds = sorted({0, len(text)} | {b for s, e, _, _ in layers for b in (s, e)})
    active: set[int] = set()
    out: list[str] = []
    for lo, hi in itertools.pairwise(bounds):
        active = {n for n in active if layers[n][1] > lo} | set(starting.get(lo, ()))
        piece = _e(text[lo:hi])
        for n in sorted(active, key=lambda n: (rank[layers[n][2]], n)):
            kind, attrs = layers[n][2], layers[n][3]
            if kind == "mark":
                piece = f"<mark {attrs}>{piece}</mark>"
            elif kind == "unique":
                piece = f'<span class="unique">{piece}</span>'
            else:
                piece = f'<span class="cleaned" {attrs}>{piece}</span>'
        out.append(piece)
    return "".join(out)


def comparison_fragment(comparison: Comparison) -> str:
    """The report body (no <html>/<head>): verdict, scores, origin, both articles side by side.

    Wrap it in an element styled by :data:`REPORT_CSS` and run :data:`REPORT_JS` after it.
    """
    c = comparison
    s = c.scores
    rows = [
        ("containment", s.containment_a, s.containment_b),
        ("verbatim coverage", s.verbatim_a, s.verbatim_b),
        ("paraphrase coverage", s.paraphrase_a, s.paraphrase_b),
        ("aligned coverage", s.aligned_a, s.aligned_b),
    ]
    table = ["<table class='ss-scores'><tr><th>score</th><th>a</th><th>b</th></tr>"]
    for name, va, vb in rows:
        table.append(f"<tr><td>{_e(name)}</td><td>{_fmt(va)}</td><td>{_fmt(vb)}</td></tr>")
    for name in ("jaccard", "semantic", "lexical", "entities", "place", "time", "overall"):
        table.append(f"<tr><td>{name}</td><td colspan='2'>{_fmt(getattr(s, name))}</td></tr>")
    table.append("</table>")
    evidence = "".join(f"<li>{_e(ev)}</li>" for ev in c.origin.evidence)
    n_verb = sum(p.kind == "verbatim" for p in c.passages)
    n_para = len(c.passages) - n_verb
    cols = []
    for side, d in (("a", c.a), ("b", c.b)):
        meta = " · ".join(_e(x) for x in (d.source, d.published, f"{len(d.text)} characters") if x)
        cols.append(
            f"<section class='ss-doc' data-side='{side}'><h2>{side}: {_e(d.title or d.id)}</h2>"
            f"<div class='ss-meta'>{meta}</div>"
            f"<div class='ss-text'>{_article_html(d.text, side, c)}</div></section>"
        )
    notes = "".join(f"<p class='ss-rule'>Note: {_e(n)}</p>" for n in c.notes)
    return (
        "<div class='ss-compare'>"
        f"<div class='ss-head'><span class='ss-verdict v-{_e(c.verdict)}'>{_e(c.verdict)}</span>"
        f"<span class='ss-rule'>{_e(c.rule)}</span></div>"
        f"{''.join(table)}"
        f"<div class='ss-origin'><b>Origin:</b> {_e(c.origin.side)}<ul>{evidence}</ul></div>"
        f"<div class='ss-legend'>{n_verb} verbatim passages (solid), {n_para} paraphrase pairs "
        "(dashed); same colour = same passage, hover or click to find its partner; "
        "<span class='unique'>grey italic</span> = only in this article; "
        "<span class='cleaned'>dotted underline</span> = repaired by cleaning.</div>"
        f"{notes}<div class='ss-cols'>{''.join(cols)}</div></div>"
    )


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{REPORT_CSS}</style></head><body>"
        f"{body}<script>{REPORT_JS}</script></body></html>\n"
    )


def query_html(query: Document, comparisons: list[Comparison]) -> str:
    """One self-contained page: the stored matches of ``query``, each compared side by side.

    ``comparisons`` are ``compare(query, match)`` for each match, best first.
    """
    rows = "".join(
        f"<tr><td><span class='ss-verdict v-{_e(c.verdict)}'>{_e(c.verdict)}</span></td>"
        f"<td><a href='#m{n}'>{_e(c.b.title or c.b.id)}</a></td><td>{_e(c.b.source)}</td>"
        f"<td>{_e(c.b.published)}</td><td>{_fmt(c.scores.overall)}</td></tr>"
        for n, c in enumerate(comparisons)
    )
    head = (
        f"<h1>{len(comparisons)} stored match{'es' if len(comparisons) != 1 else ''} for "
        f"{_e(query.title or query.id)}</h1><table class='ss-scores'><tr><th>verdict</th>"
        f"<th>article</th><th>source</th><th>date</th><th>overall</th></tr>{rows}</table>"
    )
    sections = "".join(
        f"<section id='m{n}'><hr>{comparison_fragment(c)}</section>"
        for n, c in enumerate(comparisons)
    )
    return _page(f"samestory: matches for {query.title or query.id}", head + sections)


def comparison_html(comparison: Comparison) -> str:
    """A self-contained HTML page (inline CSS and JS, no external resources).

    Example:
        >>> from samestory import compare
        >>> page = comparison_html(compare("<b>Hi</b> there.", "Hi there."))
        >>> "<b>Hi" in page, "&lt;b&gt;Hi" in page
        (False, True)
    """
    title = f"samestory: {comparison.verdict} — {comparison.a.title or comparison.a.id} / "
    title += comparison.b.title or comparison.b.id
    return _page(title, comparison_fragment(comparison))
