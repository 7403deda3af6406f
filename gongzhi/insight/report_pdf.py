"""The monthly report as an A4 PDF (reportlab platypus), in the doorplates' embedded CJK font."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from gongzhi.doorplates.pdf import cjk_font
from gongzhi.insight.definitions import ratio
from gongzhi.insight.report import (
    MonthlyFigures,
    headline_rows,
    meeting_rows,
    percent,
    rate_rows,
    report_title,
)

INK = colors.HexColor("#1A1A1A")
RED = colors.HexColor("#B71C1C")
LIGHT = colors.HexColor("#F2F2F2")
GRID = colors.HexColor("#BBBBBB")


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, textColor=INK, wordWrap="CJK")
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, textColor=RED),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4),
    }


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: Sequence[Sequence[object]], widths: list[float], style: ParagraphStyle) -> Table:
    cells = [[Paragraph(_escape(cell), style) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_report_pdf(figures: MonthlyFigures) -> bytes:
    font = cjk_font()
    styles = _styles(font)
    body, small = styles["body"], styles["small"]
    width = A4[0] - 36 * mm
    story: list[Flowable] = [
        Paragraph(_escape(report_title(figures)), styles["title"]),
        Paragraph(
            _escape(
                _("Tickets received from %(start)s to %(end)s, with their outcomes as of %(now)s.")
                % {
                    "start": f"{figures.figures.start:%Y-%m-%d}",
                    "end": f"{figures.figures.end:%Y-%m-%d}",
                    "now": f"{figures.generated_at:%Y-%m-%d %H:%M}",
                }
            ),
            small,
        ),
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("Key figures")), styles["h2"]),
        _table(
            [[_("Figure"), _("Count")], *[[label, number] for label, number in headline_rows(figures)]],
            [width * 0.7, width * 0.3],
            body,
        ),
        Paragraph(_escape(_("The three rates")), styles["h2"]),
        _table(
            [
                [_("Rate"), _("Value"), _("Count"), _("Definition")],
                *[list(row) for row in rate_rows(figures)],
            ],
            [width * 0.22, width * 0.13, width * 0.13, width * 0.52],
            body,
        ),
        Paragraph(_escape(_("Top issues")), styles["h2"]),
    ]
    if figures.by_category:
        story.append(
            _table(
                [
                    [_("Category"), _("Received"), _("Resolved"), _("Resolution rate")],
                    *[
                        [c.name, c.received, c.resolved, percent(ratio(c.resolved, c.received))]
                        for c in figures.by_category
                    ],
                ],
                [width * 0.46, width * 0.18, width * 0.18, width * 0.18],
                body,
            )
        )
    else:
        story.append(Paragraph(_escape(_("No tickets were received this month.")), body))
    story.append(Paragraph(_escape(_("Overdue matters and why")), styles["h2"]))
    if figures.overdue:
        story.append(
            _table(
                [
                    [_("No."), _("Category"), _("Level"), _("Held by"), _("Due"), _("Reminders"), _("Why")],
                    *[
                        [
                            m.number,
                            m.category,
                            m.level,
                            m.place,
                            f"{m.due_at:%m-%d %H:%M}",
                            m.reminders,
                            m.why,
                        ]
                        for m in figures.overdue
                    ],
                ],
                [w * width for w in (0.16, 0.17, 0.1, 0.17, 0.13, 0.1, 0.17)],
                small,
            )
        )
        if figures.overdue_total > len(figures.overdue):
            story.append(
                Paragraph(
                    _escape(
                        _("The %(shown)d longest overdue of %(total)d are listed.")
                        % {"shown": len(figures.overdue), "total": figures.overdue_total}
                    ),
                    small,
                )
            )
    else:
        story.append(Paragraph(_escape(_("No open matter is overdue.")), body))
    if figures.meetings is not None:
        story.append(Paragraph(_escape(_("Meetings held")), styles["h2"]))
        story.append(
            _table(
                [[_("Figure"), _("Count")], *[[label, n] for label, n in meeting_rows(figures.meetings)]],
                [width * 0.7, width * 0.3],
                body,
            )
        )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=report_title(figures),
        author=_("Gongzhi"),
    )
    document.build(story)
    return out.getvalue()
