"""The web chat (Gradio): ``launch`` serves it.

Public names are imported lazily (the app pulls gradio): ``import evidence_finder.ui`` is
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evidence_finder._lazy import lazy_exports

if TYPE_CHECKING:
    from evidence_finder.ui.app import launch

__all__ = [
    "launch",
]

_EXPORTS = {
    "launch": "app",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__, globals())
