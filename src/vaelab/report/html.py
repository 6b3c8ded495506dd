"""One self-contained HTML page: inline CSS, images as base64 ``data:`` URIs, no scripts, no fonts or
files from the network. The page is described by plain dataclasses and rendered by ``render``."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Image:
    png: bytes
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Gallery:
    """Images side by side (they wrap on narrow screens)."""

    images: Sequence[Image]


@dataclass(frozen=True)
class LabelledRows:
    """One image per row with a label in front of it (latent traversals)."""

    rows: Sequence[tuple[str, Image]]
    caption: str = ""


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""


@dataclass(frozen=True)
class Note:
    """A remark in a box: why a section is empty, or what to run to fill it."""

    text: str


Block = Image | Gallery | LabelledRows | Table | Note


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    lead: str
    blocks: Sequence[Block]


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    summary: Sequence[tuple[str, str]]  # (label, value) cards in the header
    sections: Sequence[Section]
    footer: str


CSS = """
:root { --ink: #1f2328; --muted: #5b6470; --line: #e3e6ea; --accent: #3b6fb6; --bg: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: linear-gradient(135deg, #1d2b44, #34558a); color: #fff; padding: 28px 0 22px; }
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header h1 { margin: 0; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
header .subtitle { margin: 4px 0 18px; color: #c9d5ea; font-size: 13px; word-break: break-all; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr)); gap: 10px; }
.card { background: rgba(255, 255, 255, 0.1); border: 1px solid rgba(255, 255, 255, 0.18);
  border-radius: 10px; padding: 9px 12px; }
.card .label { font-size: 11px; text-transform: uppercase; letter-spacing: 0.06em; color: #c9d5ea; }
.card .value { font-size: 16px; font-weight: 600; font-variant-numeric: tabular-nums; word-break: break-word; }
nav { position: sticky; top: 0; z-index: 1; background: rgba(243, 245, 248, 0.96);
  border-bottom: 1px solid var(--line); }
nav .wrap { display: flex; flex-wrap: wrap; gap: 6px; padding-top: 9px; padding-bottom: 9px; }
nav a { color: var(--accent); text-decoration: none; font-size: 13px; padding: 3px 10px;
  border: 1px solid #cfd9ea; border-radius: 999px; background: #fff; }
nav a:hover { background: #eaf0fa; }
main { padding: 18px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 12px; margin: 0 0 18px;
  padding: 18px 22px 20px; box-shadow: 0 1px 2px rgba(20, 30, 50, 0.05); }
section h2 { margin: 0 0 2px; font-size: 19px; font-weight: 650; }
section h2 .number { display: inline-block; min-width: 26px; height: 26px; margin-right: 8px;
  border-radius: 50%; background: var(--accent); color: #fff; text-align: center; font-size: 13px;
  line-height: 26px; vertical-align: 2px; }
.lead { margin: 0 0 14px; color: var(--muted); font-size: 14px; }
figure { margin: 0 0 12px; }
figure img { display: block; max-width: 100%; height: auto; border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.gallery { display: flex; gap: 22px; align-items: flex-start; }
.gallery figure { flex: 0 1 auto; min-width: 0; }
.gallery figcaption { width: 0; min-width: 100%; }  /* captions wrap to their picture's width */
.rows { display: grid; grid-template-columns: max-content 1fr; gap: 6px 14px; align-items: center; }
.rows .tag { font-size: 12px; font-variant-numeric: tabular-nums; color: var(--ink); background: #eef2f8;
  border-radius: 6px; padding: 3px 8px; white-space: nowrap; }
.rows img { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; margin-bottom: 8px; }
th, td { padding: 6px 14px; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted);
  border-bottom: 2px solid var(--line); }
tbody tr:nth-child(even) { background: #f8f9fb; }
.table-scroll { overflow-x: auto; }
.table-scroll + figcaption { margin-bottom: 18px; }
.note { border-left: 4px solid #e0a030; background: #fff8ea; padding: 9px 14px; border-radius: 6px;
  margin: 0 0 12px; font-size: 14px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px;
  background: #f0f2f5; padding: 1px 5px; border-radius: 4px; }
footer { color: var(--muted); font-size: 12px; padding: 4px 0 28px; }
@media (max-width: 720px) { .gallery { flex-wrap: wrap; } }
@media print { nav { display: none; } section { box-shadow: none; break-inside: avoid; } }
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _text(text: str) -> str:
    """Escape text; spans written as `code` become <code> elements."""
    parts = escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _image(image: Image) -> str:
    caption = f"<figcaption>{_text(image.caption)}</figcaption>" if image.caption else ""
    return f'<figure><img src="{data_uri(image.png)}" alt="{escape(image.alt)}">{caption}</figure>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in table.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows)
    caption = f"<figcaption>{_text(table.caption)}</figcaption>" if table.caption else ""
    return (
        f'<div class="table-scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{caption}'
    )


def _block(block: Block) -> str:
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, Gallery):
        return '<div class="gallery">' + "".join(_image(image) for image in block.images) + "</div>"
    if isinstance(block, LabelledRows):
        cells = "".join(
            f'<span class="tag">{escape(label)}</span><img src="{data_uri(image.png)}" alt="{escape(image.alt)}">'
            for label, image in block.rows
        )
        caption = f"<figcaption>{_text(block.caption)}</figcaption>" if block.caption else ""
        return f'<figure><div class="rows">{cells}</div>{caption}</figure>'
    if isinstance(block, Table):
        return _table(block)
    return f'<div class="note">{_text(block.text)}</div>'


def _section(number: int, section: Section) -> str:
    blocks = "".join(_block(block) for block in section.blocks)
    return (
        f'<section id="{escape(section.anchor)}"><h2><span class="number">{number}</span>{escape(section.title)}</h2>'
        f'<p class="lead">{_text(section.lead)}</p>{blocks}</section>'
    )


def render(page: Page) -> str:
    """The whole page as one HTML string."""
    cards = "".join(
        f'<div class="card"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div></div>'
        for label, value in page.summary
    )
    links = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in page.sections)
    sections = "".join(_section(i, section) for i, section in enumerate(page.sections, start=1))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)}</title><style>{CSS}</style></head><body>"
        f'<header><div class="wrap"><h1>{escape(page.title)}</h1>'
        f'<div class="subtitle">{escape(page.subtitle)}</div><div class="cards">{cards}</div></div></header>'
        f'<nav><div class="wrap">{links}</div></nav>'
        f'<main><div class="wrap">{sections}</div></main>'
        f'<footer><div class="wrap">{_text(page.footer)}</div></footer></body></html>\n'
    )
