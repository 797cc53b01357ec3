"""The month-by-month trend chart, as PNG bytes for the PDF (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from missing_episodes.reports.figures import month_label

if TYPE_CHECKING:
    import pandas as pd


def trend_png(monthly: pd.DataFrame) -> bytes:
    """Missing and absent episodes of children in care by month; missing and absent are drawn apart.

    matplotlib is imported here, not with the module: it costs about half a second of CPU, and every report
    command imports this module through the reports job although only the board report draws.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [month_label(day) for day in monthly["month"]]
    positions = range(len(labels))
    figure, axes = plt.subplots(figsize=(8, 3.2), dpi=120)
    try:
        axes.bar(positions, monthly["missing_in_care"], color="#1f4e79", label="Missing (children in care)")
        axes.plot(positions, monthly["absent_in_care"], color="#c55a11", marker="o", label="Absent (children in care)")
        axes.plot(
            positions,
            monthly["missing_all"],
            color="#7f7f7f",
            linestyle="--",
            marker=".",
            label="Missing (all children)",
        )
        axes.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=7)
        axes.set_ylabel("Episodes")
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.legend(fontsize=7, frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()
