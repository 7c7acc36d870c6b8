"""The HTML reader: a page's bytes -> its article text, title, address and date. Article text
by trafilatura; where it finds no article, the page's article/main element less its chrome."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from rag.errors import IngestError
from rag.ingest.readers import Document, normalize_text

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

# Elements that are never main text: code, chrome and navigation.
_HTML_DROP = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "menu",
    "dialog",
)
_HTML_BLOCKS = (
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "br",
    "hr",
    "address",
    "td",
    "th",
)
MAX_HTML_DEPTH = 1000
_TOO_DEEP = (
    f"HTML nested over {MAX_HTML_DEPTH} elements deep (browsers stop at 512); not a page to "
    "read, save it again from a browser"
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*>")
# Void elements and those whose end tag may be left out: they do not nest by themselves.
_NO_DEPTH = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "option",
        "optgroup",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
        "rb",
        "rt",
        "rtc",
        "rp",
        "html",
        "head",
        "body",
    ]
)


def read_html(data: bytes, name: str) -> Document:
    """Main text of a page, as trafilatura finds it (menus, comments, share buttons and
    "related" links left out); where it finds none, the text of the page's article/main element
    (else its body) without scripts, styles or navigation. Title, address and date from the
    page's own metadata."""
    from selectolax.lexbor import LexborHTMLParser

    if b"\x00" in data[:8192]:
        raise IngestError(name, "binary file (contains NUL bytes) with an .html name")
    html = decode_html(data)
    # The parser's time grows with depth squared (100,000 nested divs: 22 s), so what is
    # plainly too deep is refused unparsed; the parsed tree is then held to the real limit.
    if _open_tags_deeper_than(html, 5 * MAX_HTML_DEPTH):
        raise IngestError(name, _TOO_DEEP)
    tree = LexborHTMLParser(html)
    if tree.root is not None and _deeper_than(tree.root, MAX_HTML_DEPTH):
        raise IngestError(name, _TOO_DEEP)
    title = _meta(tree, "og:title") or _node_text(tree.css_first("title"))
    url = _meta(tree, "og:url")
    canonical = tree.css_first('link[rel="canonical"]')
    if canonical is not None and canonical.attributes.get("href"):
        url = canonical.attributes.get("href")
    date = _meta(tree, "article:published_time") or _meta(tree, "date")
    time_node = tree.css_first("time[datetime]")
    if date is None and time_node is not None:
        date = time_node.attributes.get("datetime")
    _drop_chrome(tree)  # trafilatura reads the page's own HTML, not this tree
    root = _main(tree)
    if root is None:
        raise IngestError(name, "no HTML body found")
    if not title:
        title = _node_text(root.css_first("h1"))
    text = _article_text(html) or tag_text(tree)
    return Document(title=title, text=text, url=url, date=date)


_LEAST_ARTICLE = 250  # characters; trafilatura's min_extracted_size


def tag_text(tree: LexborHTMLParser) -> str:
    """The text of the page's article/main element (else its body), without scripts, styles or
    navigation: what is read where trafilatura finds no article."""
    _drop_chrome(tree)
    root = _main(tree)
    if root is None:
        return ""
    # Block elements become paragraph breaks so sentences of one block stay on one line.
    for tag in _HTML_BLOCKS:
        for node in root.css(tag):
            node.insert_before("\n\n")
            node.insert_after("\n\n")
    text = normalize_text(re.sub(r"[ \t]*\n[ \t]*\n\s*", "\n\n", root.text(deep=True)))
    text = "\n\n".join(re.sub(r"\s+", " ", block).strip() for block in text.split("\n\n"))
    return normalize_text(text)


def _drop_chrome(tree: LexborHTMLParser) -> None:
    """Scripts, styles, navigation, headers, footers, asides and forms taken out of `tree`."""
    for tag in _HTML_DROP:
        for node in tree.css(tag):
            node.decompose()


def _main(tree: LexborHTMLParser) -> LexborNode | None:
    """The page's article, main or role=main element, else its body (or root)."""
    return (
        tree.css_first("article")
        or tree.css_first("main")
        or tree.css_first('[role="main"]')
        or tree.body
        or tree.root
    )


def _article_text(html: str) -> str:
    """The page's article text by trafilatura, with the settings of its own benchmark (no
    comments, tables kept), one paragraph a block; "" where it finds less than its own least
    article (250 characters: below that it falls back to the whole page's text, menus and
    all, which the tag reader does better on a small page). On real annotated pages it kept as
    much of the article as the tag reader and far less boilerplate (docs/index.md)."""
    import trafilatura

    # What it logs of a page it cannot read is this reader's to report (it falls back), not
    # noise on the console: a handler of its own keeps Python's last-resort printer away.
    if not logging.getLogger("trafilatura").handlers:
        logging.getLogger("trafilatura").addHandler(logging.NullHandler())
    found = trafilatura.extract(
        html, include_comments=False, include_tables=True, include_formatting=False
    )
    if not found or len(found) < _LEAST_ARTICLE:
        return ""
    lines = (re.sub(r"\s+", " ", line).strip() for line in found.splitlines())
    return normalize_text("\n\n".join(line for line in lines if line))


def _open_tags_deeper_than(html: str, limit: int) -> bool:
    """A parser-free upper bound on nesting: start tags minus end tags, counting only elements
    whose end tag is required (a sloppy page's unclosed <p> or <li> would count otherwise)."""
    depth = 0
    for match in _TAG.finditer(html):
        closing, tag = match.group(1), match.group(2).lower()
        if tag in _NO_DEPTH or match.group(0).endswith("/>"):
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > limit:
            return True
    return False


def _deeper_than(root: LexborNode, limit: int) -> bool:
    """Whether any element sits more than `limit` levels down (extraction slows with depth
    squared: 100,000 nested divs take 25 s)."""
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        child = node.child
        while child is not None:
            stack.append((child, depth + 1))
            child = child.next
    return False


def decode_html(data: bytes) -> str:
    """UTF-8 if it is, else the charset the page declares, else Windows-1252 (as browsers do)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"""charset=["']?([A-Za-z0-9_.:-]+)""", data[:4096])
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")


def _meta(tree: LexborHTMLParser, key: str) -> str | None:
    for attr in ("property", "name"):
        node = tree.css_first(f'meta[{attr}="{key}"]')
        content = node.attributes.get("content") if node is not None else None
        if content:
            return content.strip()
    return None


def _node_text(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    text = re.sub(r"\s+", " ", node.text()).strip()
    return text or None
