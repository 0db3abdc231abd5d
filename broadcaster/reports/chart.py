"""Chart of minutes aired per day, stacked by topic, as PNG bytes for the DOCX and PDF reports."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on the station box or in CI
import matplotlib.pyplot as plt  # noqa: E402

from broadcaster.asrun.figures import Report  # noqa: E402


def minutes_per_day_png(report: Report, width_cm: float = 16, height_cm: float = 7.5) -> bytes:
    days = [d.day for d in report.days]
    categories = [t.category for t in report.topics]
    fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=150)
    try:
        bottom = [0.0] * len(days)
        series = [[d.by_topic.get(c, (0, 0.0))[1] for d in report.days] for c in categories]
        if len(days) <= 62:  # bars stay readable up to two months
            for category, values in zip(categories, series):
                ax.bar(days, values, bottom=bottom, label=report.topic(category), width=0.8)
                bottom = [b + v for b, v in zip(bottom, values)]
        elif categories:
            ax.stackplot(days, *series, labels=[report.topic(c) for c in categories])
        ax.set_ylabel("phút")
        ax.set_title("Thời lượng phát theo ngày, theo chủ đề (phút)", fontsize=9)
        ax.tick_params(labelsize=7)
        fig.autofmt_xdate()
        if categories:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        else:
            ax.text(0.5, 0.5, "Không có lượt phát", transform=ax.transAxes, ha="center", va="center")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)
