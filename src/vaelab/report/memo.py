"""What a report drew, kept in the run directory (``report-memo.json``) so that ``vaelab report`` redraws only
what changed: each entry is stored with a key (a digest of the run files it was drawn from and of its
settings) and is used only while the key still matches. Sections are stored as JSON, images as base64 PNG:
nothing in the file is ever executed or unpickled. ``vaelab report --redraw`` ignores it.

The run's data files are not part of a key: a report drawn from a dataset that has since changed on disk
keeps its figures until the model changes or ``--redraw`` is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vaelab.atomic import atomic_write_text
from vaelab.report.html import Block, Gallery, Image, LabelledRows, Note, Section, Table

MEMO_NAME = "report-memo.json"
MEMO_VERSION = 1  # bump when the drawing code changes what a stored section would show


def file_digest(run_dir: Path, names: Iterable[str], settings: Any) -> str:
    """SHA-256 of the named files of ``run_dir`` (a missing file counts as missing) and of ``settings``."""
    digest = hashlib.sha256(json.dumps([MEMO_VERSION, settings], sort_keys=True, default=str).encode())
    for name in names:
        path = run_dir / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


class ReportMemo:
    """The entries of ``RUN_DIR/report-memo.json``; an unreadable or foreign file counts as empty."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / MEMO_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            content = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(content, dict):
            self.entries = {name: entry for name, entry in content.items() if isinstance(entry, dict)}

    def get(self, name: str, key: str) -> Any | None:
        entry = self.entries.get(name)
        return entry.get("value") if entry is not None and entry.get("key") == key else None

    def put(self, name: str, key: str, value: Any) -> None:
        self.entries[name] = {"key": key, "value": value}

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.entries))


def _image_to_json(image: Image) -> dict[str, Any]:
    return {"png": base64.b64encode(image.png).decode("ascii"), "alt": image.alt, "caption": image.caption}


def _image_from_json(data: dict[str, Any]) -> Image:
    return Image(base64.b64decode(data["png"]), data["alt"], data["caption"])


def _block_to_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Image):
        return {"image": _image_to_json(block)}
    if isinstance(block, Gallery):
        return {"gallery": [_image_to_json(image) for image in block.images]}
    if isinstance(block, LabelledRows):
        rows = [[label, _image_to_json(image)] for label, image in block.rows]
        return {"rows": rows, "caption": block.caption}
    if isinstance(block, Table):
        return {
            "table": {"header": list(block.header), "rows": [list(r) for r in block.rows], "caption": block.caption}
        }
    return {"note": block.text}


def _block_from_json(data: dict[str, Any]) -> Block:
    if "image" in data:
        return _image_from_json(data["image"])
    if "gallery" in data:
        return Gallery([_image_from_json(image) for image in data["gallery"]])
    if "rows" in data:
        return LabelledRows([(label, _image_from_json(image)) for label, image in data["rows"]], data["caption"])
    if "table" in data:
        table = data["table"]
        return Table(table["header"], table["rows"], table["caption"])
    return Note(data["note"])


def sections_to_json(sections: Iterable[Section]) -> list[dict[str, Any]]:
    return [
        {"anchor": s.anchor, "title": s.title, "lead": s.lead, "blocks": [_block_to_json(b) for b in s.blocks]}
        for s in sections
    ]


def sections_from_json(data: list[dict[str, Any]]) -> list[Section]:
    return [Section(s["anchor"], s["title"], s["lead"], [_block_from_json(b) for b in s["blocks"]]) for s in data]
