"""HTML to text (used by :mod:`evidence_finder.ingest.load`).

Decodes by BOM, ``<meta charset>`` / XML declaration, else strict UTF-8. Parses with
selectolax (lexbor) and walks the tree iteratively (no recursion, so any depth is safe),
dropping scripts, styles, other non-content and text a reader cannot see; block elements become line breaks,
paragraph-like blocks blank lines, list items "- " lines and table rows "a | b | c" lines.

Lexbor's tree builder is quadratic in the nesting depth of block elements (100,000 nested
``<div>`` take ~20 s), so tags nested deeper than ``MAX_DEPTH`` are dropped before parsing,
much as browsers cap DOM depth.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from evidence_finder.errors import EncodingError
from evidence_finder.ingest._hidden import (
    StyleSheet,
    background_of,
    colour_of,
    css_colour,
    hides,
    near_white,
)

MAX_DEPTH = 512

_SKIP = frozenset((
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object", "embed",
    "canvas", "select", "button", "datalist", "dialog",
))
_PARA = frozenset((
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "figure", "hr",
    "address", "aside",
))
_BLOCK = _PARA | frozenset((
    "html", "body", "article", "section", "main", "header", "footer", "nav", "div", "ul", "ol",
    "dl", "li", "dt", "dd", "caption", "figcaption", "details", "summary", "fieldset", "legend",
    "form", "center", "tr", "tbody", "thead", "tfoot", "hgroup", "menu",
))
_CELL = frozenset({"td", "th"})
# elements whose end tag is optional or that are void: not counted in the depth pre-pass
_UNCOUNTED = frozenset((
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
    "optgroup", "rp", "rt", "colgroup", "caption", "html", "head", "body",
))
_TAG_RE = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
_META_RE = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_WS_RE = re.compile(r"[ \t\n\r\f]+")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_LATIN1_ALIASES = frozenset({"iso8859-1", "ascii", "cp1252"})


def _declared_charset(data: bytes) -> str | None:
    head = data[:4096]
    m = _META_RE.search(head) or _XML_RE.search(head)
    return m.group(1).decode("ascii") if m else None


def _encoding_error(path: Path, exc: UnicodeDecodeError, charset: str, skip: int = 0) -> str:
    bad = exc.object[exc.start]
    return (
        f"{str(path)!r} is not valid {charset}: byte 0x{bad:02X} at byte offset "
        f"{exc.start + skip} cannot be decoded"
    )


def decode_html(path: Path, data: bytes) -> str:
    """The HTML file's text, decoded by BOM, declared charset or UTF-8."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                msg = _encoding_error(path, exc, codec.upper(), len(bom))
                raise EncodingError(f"{msg}. Re-save the file as UTF-8 and try again.") from exc
    declared = _declared_charset(data)
    codec = "utf-8"
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = "utf-8"
        if codec.startswith("utf-16") or codec.startswith("utf-32"):
            codec = "utf-8"  # a meta tag read as ASCII cannot really be UTF-16 (WHATWG rule)
    if codec in _LATIN1_ALIASES:  # browsers read Latin-1 and ASCII labels as Windows-1252
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        label = declared or "UTF-8"
        msg = _encoding_error(path, exc, label)
        hint = (
            f" although it declares charset {declared!r}"
            if declared else " and it declares no charset"
        )
        raise EncodingError(
            f"{msg}{hint}. Re-save the file as UTF-8 (or fix its <meta charset>) and try again."
        ) from exc


def limit_depth(html: str, max_depth: int = MAX_DEPTH) -> str:
    """Drop start/end tags nested deeper than ``max_depth`` (their text is kept)."""
    raw = html.encode("utf-8", "surrogatepass")
    depth = 0
    cuts: list[tuple[int, int]] = []
    for m in _TAG_RE.finditer(raw):
        closing, name, selfclose = m.group(1), m.group(2).lower(), m.group(3)
        if selfclose or name.decode("ascii", "replace") in _UNCOUNTED:
            continue
        if closing:
            if depth > max_depth:
                cuts.append(m.span())
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > max_depth:
                cuts.append(m.span())
    if not cuts:
        return html
    parts: list[bytes] = []
    pos = 0
    for start, end in cuts:
        parts.append(raw[pos:start])
        parts.append(b" ")
        pos = end
    parts.append(raw[pos:])
    return b"".join(parts).decode("utf-8", "surrogatepass")


class _Out:
    """Collects text and line-break tokens; ``result`` collapses whitespace and breaks."""

    def __init__(self) -> None:
        self.tokens: list[str | int] = []  # int: 1 = newline, 2 = blank line

    def text(self, s: str) -> None:
        self.tokens.append(s)

    def brk(self, strength: int) -> None:
        self.tokens.append(strength)

    def result(self) -> str:
        parts: list[str] = []
        cur: list[str] = []
        before = pending = 0

        def emit(line: str) -> None:
            if parts:
                parts.append("\n\n" if before == 2 else "\n")
            parts.append(line)

        for tok in self.tokens:
            if isinstance(tok, int):
                pending = max(pending, tok)
                continue
            if pending:
                line = _WS_RE.sub(" ", "".join(cur)).strip()
                if line:
                    emit(line)
                    before = pending
                else:
                    before = max(before, pending)
                cur, pending = [], 0
            cur.append(tok)
        line = _WS_RE.sub(" ", "".join(cur)).strip()
        if line:
            emit(line)
        return "".join(parts)


def _is_hidden(node: LexborNode) -> bool:
    attrs = node.attributes
    return "hidden" in attrs or attrs.get("aria-hidden") == "true"


@dataclass(frozen=True)
class _Look:
    """What an element's text looks like: its colour and whether a dark background is behind."""

    colour: int | None = None  # 0xRRGGBB, -1 transparent, None: the default (black)
    dark_bg: bool = False

    def child(self, tag: str, attrs: dict[str, str | None], decls: dict[str, str]) -> _Look:
        colour, dark = self.colour, self.dark_bg
        declared = colour_of(decls)
        if declared is None and tag == "font" and attrs.get("color"):
            declared = css_colour(attrs["color"] or "")
        if declared is not None:
            colour = declared
        bg = background_of(decls)
        if bg is None and attrs.get("bgcolor"):
            bg = css_colour(attrs["bgcolor"] or "")
        if bg is not None and bg != -1:
            dark = bg == -2 or not near_white(bg)
        return _Look(colour, dark)

    @property
    def invisible(self) -> bool:
        if self.colour is None:
            return False
        return self.colour == -1 or (near_white(self.colour) and not self.dark_bg)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document, with block structure kept as line breaks.

    Text hidden by ``hidden``/``aria-hidden``, by CSS (inline or a simple ``<style>`` rule:
    display:none, visibility:hidden, zero opacity or size, 1-2 px text) or white on a page
    with no dark background is not visible to a reader and is dropped.
    """
    tree = LexborHTMLParser(limit_depth(html))
    root = tree.body or tree.root
    if root is None:
        return ""
    sheet = StyleSheet(node.text(deep=True) for node in tree.css("style"))
    out = _Out()
    cells: list[int] = []  # cells seen so far in each open table row
    in_cell = 0
    in_pre = 0
    stack: list[tuple[LexborNode, bool, _Look]] = [(root, False, _Look())]
    while stack:
        node, leaving, look = stack.pop()
        tag = node.tag or ""
        if leaving:
            if tag in _CELL:
                in_cell -= 1
            elif tag == "tr" and cells:
                cells.pop()
            elif tag == "pre":
                in_pre -= 1
            _block_break(out, tag, bool(in_cell))
            continue
        if node.is_text_node:
            if not look.invisible:
                _emit_text(out, node.text_content or "", bool(in_pre), bool(in_cell))
            continue
        if (tag.startswith("-") and tag != "-document") or tag in _SKIP or _is_hidden(node):
            continue
        attrs = node.attributes
        decls = sheet.declarations_for(tag, attrs)
        if hides(decls):
            continue
        look = look.child(tag, attrs, decls)
        if tag == "br":
            if in_cell:
                out.text(" ")
            else:
                out.brk(1)
            continue
        if tag in _CELL:
            if cells and cells[-1]:
                out.text(" | ")
            if cells:
                cells[-1] += 1
            in_cell += 1
        elif tag == "tr":
            cells.append(0)
        elif tag == "pre":
            in_pre += 1
        _block_break(out, tag, bool(in_cell))
        if tag == "li" and not in_cell:
            out.text("- ")
        stack.append((node, True, look))
        children = list(node.iter(include_text=True))
        stack.extend((child, False, look) for child in reversed(children))
    return out.result()


def _block_break(out: _Out, tag: str, in_cell: bool) -> None:
    if tag not in _BLOCK:
        return
    if in_cell:
        out.text(" ")
    else:
        out.brk(2 if tag in _PARA else 1)


def _emit_text(out: _Out, text: str, in_pre: bool, in_cell: bool) -> None:
    if not in_pre or in_cell:
        out.text(_WS_RE.sub(" ", text))
        return
    for i, part in enumerate(text.split("\n")):
        if i:
            out.brk(1)
        out.text(part)
