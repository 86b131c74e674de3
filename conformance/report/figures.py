"""matplotlib for the report's charts, loaded on first use, and a figure written as PNG bytes.

Both chart modules (:mod:`conformance.report.plots` and :mod:`conformance.report.timeline`) draw
through this one, so neither imports the other back (issue 18: no import cycles). matplotlib is
imported by :func:`pyplot` only: ``aethel-conformance --help`` and every command that draws no
chart start without it.
"""

from __future__ import annotations

import functools
import io
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@functools.cache
def pyplot() -> ModuleType:
    """Return ``matplotlib.pyplot`` on the Agg backend (imported on the first call)."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ImportError(
            "the report's charts need matplotlib: pip install matplotlib (or reinstall "
            "aethel-conformance)"
        ) from None
    matplotlib.use("Agg")  # no display: reports are rendered on CI machines too
    import matplotlib.pyplot as plt

    return plt


def png(figure: Figure) -> bytes:
    """Return ``figure`` as PNG bytes and close it."""
    plt = pyplot()
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()
