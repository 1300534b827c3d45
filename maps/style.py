"""The style sheet and page frame every HTML report shares (inlined: the pages open with no network).

Every page reads on a phone (390 px) as on a desktop: a viewport meta, wide tables that scroll inside
their own box (``scroll``), charts that scale to the width, and no horizontal scroll of the page.
"""

from __future__ import annotations

from maps.escape import esc

__all__ = ["CSS", "VIEWPORT", "page", "scroll", "wide"]

VIEWPORT = "<meta name='viewport' content='width=device-width, initial-scale=1'>"

CSS = """
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1320px; color: #222; padding: 0 16px;
  overflow-wrap: break-word; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
.scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; margin: 8px 0; }
.scroll > table { margin: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: right; vertical-align: bottom; }
td { white-space: nowrap; vertical-align: top; } td.note { white-space: normal; min-width: 220px; text-align: left; }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
.note { color: #555; font-size: 12px; } .bad { color: #b2182b; } .good { color: #1b7837; }
th { white-space: nowrap; }
svg { display: block; max-width: 100%; height: auto; }
figure.chart { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 4px 16px; margin: 8px 0; }
figure.chart .plot { flex: 0 1 640px; min-width: 0; overflow-x: auto; }
figure.chart .plot svg { width: 640px; min-width: 520px; }
.wide { overflow-x: auto; max-width: 100%; margin: 8px 0; }
.wide > svg { min-width: 600px; }
.legend { flex: 1 1 220px; font-size: 12px; line-height: 1.5; }
.legend .key { display: block; white-space: nowrap; }
.legend svg { display: inline-block; vertical-align: middle; margin-right: 5px; }
iframe { display: block; width: 100%; height: 600px; border: 1px solid #ccc; margin-bottom: 10px;
  box-sizing: border-box; }
ul { padding-left: 20px; }
code { overflow-wrap: anywhere; }
@media (max-width: 600px) {
  body { margin: 12px auto; padding: 0 10px; }
  h1 { font-size: 19px; } h2 { font-size: 16px; }
  td.note { min-width: 160px; }
  iframe { height: 420px; }
}
"""


def scroll(table: str) -> str:
    """An HTML table in a box that scrolls sideways when the table is wider than the page."""
    return f"<div class='scroll'>{table}</div>"


def wide(svg: str) -> str:
    """A wide chart in a box of its own: it scales down with the page to a floor (600 px, where its
    text still reads), then scrolls sideways inside the box rather than the page."""
    return f"<div class='wide'>{svg}</div>"


def page(title: str, body: str, head: str = "") -> str:
    """A whole report page: ``title`` is text (escaped here), ``body`` markup already made safe;
    ``head``: markup for the head beyond the title and style (the maps' shared library, once)."""
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{VIEWPORT}<title>{esc(title)}</title>"
        f"<style>{CSS}</style>{head}</head><body>{body}</body></html>"
    )
