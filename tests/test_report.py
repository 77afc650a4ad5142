"""The terminal report prints the essentials; the HTML page escapes all article text."""

import io

from rich.console import Console

from samestory import Document, compare
from samestory.report import comparison_fragment, comparison_html, print_report

EVIL_A = (
    'Officials said <script>alert("x")</script> the harbour plan was approved on Monday '
    'by the council of Port Aldren. <img src=x onerror="alert(1)"> Work starts in May.'
)
EVIL_B = (
    "The harbour plan was approved on Monday by the council of Port Aldren, officials said. "
    '" onmouseover="alert(2)" <b>bold</b> & more.'
)


def test_html_escapes_article_text_and_metadata():
    a = Document(EVIL_A, title="<i>title</i>", source='"><script>bad()</script>')
    page = comparison_html(compare(a, EVIL_B))
    assert "<script>alert" not in page and "<img" not in page and "<b>bold" not in page
    assert "<i>title" not in page and "<script>bad" not in page
    assert 'onmouseover="alert' not in page and 'onerror="alert' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script" in page
    assert page.count("<script>") == 1  # our own, inline


def test_html_links_passages_on_both_sides():
    r = compare(EVIL_A, EVIL_B)
    assert r.passages
    frag = comparison_fragment(r)
    for n in range(len(r.passages)):
        assert f'data-p="{n}" data-side="a"' in frag and f'data-p="{n}" data-side="b"' in frag
    assert r.verdict in frag and "<html" not in frag


def test_terminal_report_shows_verdict_scores_passages_and_origin():
    a = "PARIS (NWA) - The minis-ter resigned on Friday after a long row over pay and pensions."
    b = "The minister resigned on Friday after a long row over pay and pensions, officials said."
    buf = io.StringIO()
    print_report(compare(a, b), console=Console(file=buf, width=120, color_system=None))
    out = buf.getvalue()
    for word in ("DUPLICATE", "jaccard", "overall", "Shared passages", "verbatim", "Origin"):
        assert word in out, word


def test_html_fragment_is_well_nested():
    from html.parser import HTMLParser

    from samestory.samples import load

    docs = {d.id: d for d in load()}

    class Nesting(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack = []

        def handle_starttag(self, tag, attrs):
            if tag not in {"meta", "br", "img"}:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            assert self.stack and self.stack.pop() == tag, tag

    for a, b in [("fish-wire", "fish-rewrite"), ("fish-wire", "fish-syndicated")]:
        parser = Nesting()
        parser.feed(comparison_fragment(compare(docs[a], docs[b])))
        assert parser.stack == []
