"""Render Block Kit blocks as readable text, for snapshot files under tests/snapshots/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"


def _text(obj: dict[str, Any]) -> str:
    return str(obj.get("text", ""))


def render(blocks: list[dict[str, Any]]) -> str:
    """One readable paragraph per block."""
    out: list[str] = []
    for block in blocks:
        kind = block["type"]
        if kind == "header":
            out.append(f"# {_text(block['text'])}")
        elif kind == "section":
            out.append(_text(block["text"]))
        elif kind == "context":
            out.append("  · ".join(_text(e) for e in block["elements"]))
        elif kind == "divider":
            out.append("----")
        elif kind == "actions":
            buttons = []
            for el in block["elements"]:
                style = f" ({el['style']})" if "style" in el else ""
                buttons.append(f"[{_text(el['text'])}{style} → {el['action_id']}={el.get('value', '')}]")
                if "confirm" in el:
                    c = el["confirm"]
                    buttons.append(
                        f"  confirm: {_text(c['title'])} | {_text(c['text'])} | "
                        f"[{_text(c['confirm'])}] [{_text(c['deny'])}]"
                    )
            out.append("\n".join(buttons))
        else:
            out.append(f"<{kind}>")
    return "\n\n".join(out) + "\n"


def assert_snapshot(name: str, text: str) -> None:
    """Compare `text` with tests/snapshots/NAME.txt; PDM_UPDATE_SNAPSHOTS=1 rewrites the file."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("PDM_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(text, encoding="utf-8")
        if os.environ.get("PDM_UPDATE_SNAPSHOTS") != "1":
            raise AssertionError(f"snapshot {path.name} was missing and is now written: review it")
    assert text == path.read_text(encoding="utf-8"), f"wording changed: review tests/snapshots/{name}.txt"
