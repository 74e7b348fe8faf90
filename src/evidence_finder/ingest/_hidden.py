"""Text a reader of the rendered document cannot see, so it is never evidence.

Hidden or near-invisible text is the usual carrier of injected content: a DOCX run marked
hidden (``w:vanish``), white or 1-2 pt text in a DOCX or PDF, an HTML element with
``display:none``, ``visibility:hidden``, zero size or white 1 px text. The loaders ask these
helpers what to drop. White text is dropped only where nothing dark is declared behind it
(a white title on a coloured band is legitimate); 2 pt is far below any readable size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_INVISIBLE_PT = 2.0  # text this small or smaller is unreadable in print and on screen
_NEAR_WHITE = 0xEE  # every channel at least this: indistinguishable from a white page


def near_white(rgb: int) -> bool:
    """True for a 0xRRGGBB colour a reader cannot tell from a white page."""
    r, g, b = (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF
    return min(r, g, b) >= _NEAR_WHITE


# --- CSS (HTML) ----------------------------------------------------------------------------

_NAMED = {"white": 0xFFFFFF, "snow": 0xFFFAFA, "ivory": 0xFFFFF0, "ghostwhite": 0xF8F8FF,
          "whitesmoke": 0xF5F5F5, "transparent": -1}
_RGB_FN = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)(?:\s*,\s*([\d.]+))?\s*\)")
_SIZE = re.compile(r"^(-?[\d.]+)\s*(px|pt|em|rem|%|)$")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?((?:[.#][\w-]+)*)$", re.I)


def css_colour(value: str) -> int | None:
    """0xRRGGBB of a CSS colour value, -1 for transparent, None if not understood."""
    v = value.strip().lower().removesuffix("!important").strip()
    if v in _NAMED:
        return _NAMED[v]
    if v.startswith("#"):
        h = v[1:]
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h[:3])
        if len(h) in (6, 8) and all(c in "0123456789abcdef" for c in h):
            if len(h) == 8 and h[6:] == "00":
                return -1
            return int(h[:6], 16)
        return None
    m = _RGB_FN.match(v)
    if m:
        if m.group(4) is not None and float(m.group(4)) == 0:
            return -1
        r, g, b = (min(int(x), 255) for x in m.group(1, 2, 3))
        return (r << 16) | (g << 8) | b
    return None


def _size_px(value: str) -> float | None:
    m = _SIZE.match(value.strip().lower().removesuffix("!important").strip())
    if not m:
        return None
    n, unit = float(m.group(1)), m.group(2)
    if unit == "pt":
        return n * 4 / 3
    if unit in ("em", "rem"):
        return n * 16
    if unit == "%":
        return n * 16 / 100
    return n


def declarations(style: str) -> dict[str, str]:
    """``{property: value}`` of a CSS declaration block (last one wins)."""
    out: dict[str, str] = {}
    for part in style.split(";"):
        prop, sep, value = part.partition(":")
        if sep:
            out[prop.strip().lower()] = value.strip().lower()
    return out


def hides(decls: dict[str, str]) -> bool:
    """True when these declarations make an element's text invisible by themselves."""
    if decls.get("display", "").startswith("none"):
        return True
    if decls.get("visibility", "").startswith(("hidden", "collapse")):
        return True
    opacity = decls.get("opacity", "").removesuffix("!important").strip()
    try:
        if opacity and float(opacity.rstrip("%")) == 0:
            return True
    except ValueError:
        pass
    size = _size_px(decls.get("font-size", ""))
    if size is not None and size <= MAX_INVISIBLE_PT * 4 / 3:
        return True
    clipped = decls.get("overflow", "").startswith(("hidden", "clip"))
    for dim in ("width", "height", "max-width", "max-height"):
        px = _size_px(decls.get(dim, ""))
        if px is not None and px <= 1 and clipped:
            return True
    return re.sub(r"\s", "", decls.get("clip", "")).startswith("rect(0")


def colour_of(decls: dict[str, str]) -> int | None:
    return css_colour(decls["color"]) if "color" in decls else None


def background_of(decls: dict[str, str]) -> int | None:
    """The declared background colour; a background image counts as dark (-2)."""
    bg = decls.get("background-color") or decls.get("background") or ""
    if "url(" in bg or "gradient(" in bg or "background-image" in decls:
        return -2
    if not bg:
        return None
    first = bg.split()[0] if not bg.startswith("rgb") else bg[: bg.find(")") + 1]
    return css_colour(first)


class StyleSheet:
    """Simple rules (``tag``, ``.class``, ``#id``, ``tag.class``) from ``<style>`` blocks."""

    def __init__(self, css_blocks: Iterable[str]) -> None:
        self.rules: list[tuple[str | None, frozenset[str], str | None, dict[str, str]]] = []
        for css in css_blocks:
            css = re.sub(r"/\*.*?\*/", " ", css, flags=re.S)
            for selectors, body in _RULE.findall(css):
                decls = declarations(body)
                for sel in selectors.split(","):
                    parsed = self._parse(sel.strip())
                    if parsed:
                        self.rules.append((*parsed, decls))

    @staticmethod
    def _parse(sel: str) -> tuple[str | None, frozenset[str], str | None] | None:
        m = _SIMPLE_SELECTOR.match(sel)
        if not m or not sel:
            return None
        tag = (m.group(1) or "").lower() or None
        parts = re.findall(r"[.#][\w-]+", m.group(2))
        classes = frozenset(p[1:] for p in parts if p[0] == ".")
        ids = [p[1:] for p in parts if p[0] == "#"]
        return tag, classes, (ids[0] if ids else None)

    def declarations_for(self, tag: str, attrs: dict[str, str | None]) -> dict[str, str]:
        """Declarations of the matching rules, then the inline style (which wins)."""
        out: dict[str, str] = {}
        if self.rules:
            classes = set((attrs.get("class") or "").split())
            elem_id = attrs.get("id")
            for rtag, rclasses, rid, decls in self.rules:
                if (rtag is None or rtag == tag) and rclasses <= classes and (rid is None or rid == elem_id):
                    out.update(decls)
        style = attrs.get("style")
        if style:
            out.update(declarations(style))
        return out


# --- DOCX ----------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _rpr_hidden(rpr: object | None) -> bool | None:
    """True/False when this run-property element decides visibility, None when silent."""
    if rpr is None:
        return None
    decided: bool | None = None
    for tag in ("vanish", "specVanish", "webHidden"):
        el = rpr.find(_W + tag)  # type: ignore[attr-defined]
        if el is not None:
            val = el.get(_W + "val", "true")
            if val.lower() not in ("0", "false", "off"):
                return True
            decided = False
    colour = rpr.find(_W + "color")  # type: ignore[attr-defined]
    if colour is not None:
        val = (colour.get(_W + "val") or "").strip()
        theme = (colour.get(_W + "themeColor") or "").lower()
        if theme in ("background1", "light1"):
            return True
        if len(val) == 6:
            try:
                if near_white(int(val, 16)):
                    return True
            except ValueError:
                pass
    size = rpr.find(_W + "sz")  # type: ignore[attr-defined]
    if size is not None:
        try:
            if int(size.get(_W + "val", "24")) <= MAX_INVISIBLE_PT * 2:  # half-points
                return True
        except ValueError:
            pass
    return decided


def _style_rprs(styles_root: object | None) -> dict[str, tuple[object | None, str | None]]:
    """style id -> (its rPr, the style it is based on)."""
    out: dict[str, tuple[object | None, str | None]] = {}
    if styles_root is None:
        return out
    for style in styles_root.iter(_W + "style"):  # type: ignore[attr-defined]
        sid = style.get(_W + "styleId")
        if not sid:
            continue
        based = style.find(_W + "basedOn")
        out[sid] = (style.find(_W + "rPr"), based.get(_W + "val") if based is not None else None)
    return out


def _style_hidden(sid: str | None, styles: dict[str, tuple[object | None, str | None]]) -> bool:
    seen: set[str] = set()
    while sid and sid in styles and sid not in seen:
        seen.add(sid)
        rpr, based = styles[sid]
        decided = _rpr_hidden(rpr)
        if decided is not None:
            return decided
        sid = based
    return False


def drop_hidden_docx_runs(body: object, styles_root: object | None) -> int:
    """Remove hidden, near-white and tiny runs from a DOCX body element; returns how many."""
    styles = _style_rprs(styles_root)
    doomed = []
    for run in body.iter(_W + "r"):  # type: ignore[attr-defined]
        rpr = run.find(_W + "rPr")
        decided = _rpr_hidden(rpr)
        if decided is None:
            rstyle = rpr.find(_W + "rStyle") if rpr is not None else None
            if rstyle is not None:
                decided = _style_hidden(rstyle.get(_W + "val"), styles)
        if decided is None:
            para = run.getparent()
            while para is not None and para.tag != _W + "p":
                para = para.getparent()
            ppr = para.find(_W + "pPr") if para is not None else None
            pstyle = ppr.find(_W + "pStyle") if ppr is not None else None
            if pstyle is not None:
                decided = _style_hidden(pstyle.get(_W + "val"), styles)
        if decided:
            doomed.append(run)
    for run in doomed:
        run.getparent().remove(run)
    return len(doomed)
