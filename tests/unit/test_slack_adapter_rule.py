"""Only the Slack adapter imports slack_sdk (the outbox and its sender reach Slack through a port)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]


def importers_of(package: str) -> set[str]:
    """Source files of bot/, handlers/ and scheduler/ that import `package` or one of its modules."""
    found = set()
    for path in sorted(p for top in ("bot", "handlers", "scheduler") for p in (ROOT / top).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == package or name.startswith(package + ".") for name in names):
                found.add(str(path.relative_to(ROOT)))
    return found


def test_only_the_slack_adapter_imports_slack_sdk() -> None:
    assert importers_of("slack_sdk") == {"bot/slack_client.py"}


def test_the_rule_check_sees_an_import() -> None:
    assert "bot/app.py" in importers_of("slack_bolt")
