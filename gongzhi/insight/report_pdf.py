"""The monthly report as an A4 PDF (reportlab platypus), in the doorplates' embedded CJK font.

Laid out for printing and handing to the subdistrict: every table fits the page width (cells wrap,
CJK text breaks between characters, numbers stay whole), long tables repeat their header on the
next page, a heading is kept with what follows it, and every page carries the report's title and
"page n of m" at its foot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from gongzhi.doorplates.pdf import cjk_font
from gongzhi.insight.definitions import ratio
from gongzhi.insight.report import (
    OVERDUE_LISTED,
    TOP_TERMS,
    MonthlyFigures,
    headline_rows,
    kind_header,
    kind_rows,
    meeting_rows,
    now_words,
    percent,
    rate_rows,
    report_scope_line,
    report_title,
    why_words,
)

INK = colors.HexColor("#1A1A1A")
MUTED = colors.HexColor("#555555")
RED = colors.HexColor("#B71C1C")
LIGHT = colors.HexColor("#F2F2F2")
GRID = colors.HexColor("#BBBBBB")
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
SECTION_ROOM = 45 * mm  # a heading, a line of text and a table's first rows
KEPT_WHOLE = 100 * mm  # sections up to this tall are never split


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, textColor=INK, wordWrap="CJK")
    return {
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "number": ParagraphStyle("number", parent=base, fontSize=9.5, leading=13, alignment=2),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11.5),
        "small_number": ParagraphStyle("small_number", parent=base, fontSize=8.5, leading=11.5, alignment=2),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=11.5, textColor=MUTED),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, textColor=RED, spaceAfter=2),
        "h2": ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4),
    }


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    styles: dict[str, ParagraphStyle],
    *,
    numeric: Sequence[int] = (),
    small: bool = False,
) -> Table:
    """A table as wide as the text column (`widths` are fractions of it), the `numeric` columns
    right-aligned, its header repeated on every page it runs over."""
    text = styles["small" if small else "cell"]
    number = styles["small_number" if small else "number"]

    def cell(value: object, column: int, head: bool = False) -> Paragraph:
        style = number if column in numeric else text
        return Paragraph(_escape(value), style)

    cells: list[list[Any]] = [[cell(h, column) for column, h in enumerate(header)]]
    cells += [[cell(value, column) for column, value in enumerate(row)] for row in rows]
    table = Table(cells, colWidths=[w * WIDTH for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _section(title: str, styles: dict[str, ParagraphStyle], *first: Flowable) -> list[Flowable]:
    """A heading and what follows it, never the heading alone at a page's foot: a short section is
    kept whole on one page (a small table is not split); a long one starts a new page only when
    less than SECTION_ROOM is left, and its table runs on with its header repeated."""
    heading = Paragraph(_escape(title), styles["h2"])
    height = sum(flowable.wrap(WIDTH, A4[1])[1] for flowable in first)
    if height <= KEPT_WHOLE:
        return [KeepTogether([heading, *first])]
    return [CondPageBreak(SECTION_ROOM), heading, *first]


def _key_figures(figures: MonthlyFigures, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [
        *_section(
            _("Key figures"),
            styles,
            _table([_("Figure"), _("Count")], headline_rows(figures), [0.62, 0.38], styles, numeric=(1,)),
        ),
        *_section(
            _("By kind of ticket"),
            styles,
            _table(
                kind_header(),
                kind_rows(figures),
                [0.28, 0.1, 0.1, 0.14, 0.13, 0.1, 0.15],
                styles,
                numeric=(1, 2, 3, 4, 5, 6),
            ),
        ),
        *_section(
            _("The three rates"),
            styles,
            _table(
                [_("Rate"), _("Value"), _("Count"), _("Definition")],
                rate_rows(figures),
                [0.2, 0.12, 0.13, 0.55],
                styles,
                numeric=(1, 2),
            ),
        ),
    ]


def _top_issues(figures: MonthlyFigures, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    top = figures.top_categories
    if not top:
        return [
            _section(
                _("Top issues"),
                styles,
                Paragraph(_escape(_("No tickets were received this month.")), styles["body"]),
            )
        ]
    table = _table(
        [_("Category"), _("Received"), _("Resolved"), _("Resolution rate")],
        [[c.name, c.received, c.resolved, percent(ratio(c.resolved, c.received))] for c in top],
        [0.46, 0.18, 0.18, 0.18],
        styles,
        numeric=(1, 2, 3),
    )
    story: list[Flowable] = _section(_("Top issues"), styles, table)
    others = len([c for c in figures.by_category if c.received]) - len(top)
    if others > 0:
        story.append(
            Paragraph(
                _escape(_("%(n)d other categories are in the Excel workbook.") % {"n": others}),
                styles["note"],
            )
        )
    if figures.terms:
        words = _table(
            [_("Word"), *[t.term for t in figures.terms]],
            [[_("Tickets naming it"), *[t.tickets for t in figures.terms]]],
            [0.16, *[0.84 / TOP_TERMS] * len(figures.terms)],  # as wide as ten words, however many
            styles,
            numeric=range(1, len(figures.terms) + 1),
        )
        words.hAlign = "LEFT"
        if figures.terms_from < figures.figures.counts.received:
            note = _(
                "Most frequent words in the residents' descriptions (in the newest %(n)d of the month's tickets)"
            )
        else:
            note = _("Most frequent words in the residents' descriptions (tickets naming them, of %(n)d)")
        note %= {"n": figures.terms_from}
        story += [
            Spacer(1, 3 * mm),
            KeepTogether([Paragraph(_escape(note), styles["body"]), Spacer(1, 1 * mm), words]),
        ]
    return story


def _overdue(figures: MonthlyFigures, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    overdue = figures.overdue
    heading = _("Overdue matters and why")
    if not overdue.matters:
        text = _("No ticket received this month was overdue at %(cutoff)s.") % {
            "cutoff": f"{overdue.cutoff:%Y-%m-%d %H:%M}"
        }
        return _section(heading, styles, Paragraph(_escape(text), styles["body"]))
    summary = _(
        "%(total)d tickets received this month were overdue at %(cutoff)s: %(not_accepted)d not accepted "
        "in time, %(not_resolved)d not resolved in time. %(open)d of them are still open now."
    ) % {
        "total": overdue.total,
        "cutoff": f"{overdue.cutoff:%Y-%m-%d %H:%M}",
        "not_accepted": overdue.not_accepted,
        "not_resolved": overdue.not_resolved,
        "open": overdue.still_open,
    }
    listed = overdue.matters[:OVERDUE_LISTED]
    table = _table(
        [_("Ticket no."), _("Category and grid"), _("Received on"), _("Deadline"), _("Why"), _("Now")],
        [
            [
                m.number,
                f"{m.category} · {m.grid}",
                f"{m.submitted_at:%m-%d %H:%M}",
                f"{m.due_at:%m-%d %H:%M}",
                why_words(m),
                now_words(m),
            ]
            for m in listed
        ],
        [0.16, 0.15, 0.12, 0.12, 0.34, 0.11],
        styles,
        small=True,
    )
    story = _section(heading, styles, Paragraph(_escape(summary), styles["body"]), Spacer(1, 2 * mm), table)
    if overdue.total > len(listed):
        story.append(
            Paragraph(
                _escape(
                    _(
                        "The %(shown)d longest overdue of %(total)d are listed; the Excel workbook lists them all."
                    )
                    % {"shown": len(listed), "total": overdue.total}
                ),
                styles["note"],
            )
        )
    return story


class _NumberedCanvas(Canvas):
    """Draws each page's foot once the page count is known: the title and "page n of m"."""

    footer = ""
    font = "Helvetica"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_foot(total)
            super().showPage()
        super().save()

    def _draw_foot(self, total: int) -> None:
        self.saveState()
        self.setFont(self.font, 8)
        self.setFillColor(MUTED)
        self.drawString(MARGIN, 10 * mm, self.footer)
        page = _("Page %(page)d of %(total)d") % {"page": self._pageNumber, "total": total}
        self.drawRightString(A4[0] - MARGIN, 10 * mm, page)
        self.restoreState()


def render_report_pdf(figures: MonthlyFigures) -> bytes:
    font = cjk_font()
    styles = _styles(font)
    story: list[Flowable] = [
        Paragraph(_escape(report_title(figures)), styles["title"]),
        Paragraph(_escape(report_scope_line(figures)), styles["note"]),
        Spacer(1, 2 * mm),
        *_key_figures(figures, styles),
        *_top_issues(figures, styles),
        *_overdue(figures, styles),
    ]
    if figures.meetings is not None:
        story.extend(
            _section(
                _("Meetings held"),
                styles,
                _table(
                    [_("Figure"), _("Count")],
                    meeting_rows(figures.meetings),
                    [0.62, 0.38],
                    styles,
                    numeric=(1,),
                ),
            )
        )
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=report_title(figures),
        author=_("Gongzhi"),
    )
    canvas_class = type(
        "ReportCanvas",
        (_NumberedCanvas,),
        {"footer": f"{report_title(figures)} · {figures.generated_at:%Y-%m-%d %H:%M}", "font": font},
    )
    document.build(story, canvasmaker=canvas_class)
    return out.getvalue()
