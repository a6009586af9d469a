"""The append-only audit log (`pdm:audit` stream); details are redacted by `scheduler.redaction`."""

from __future__ import annotations

import json

from scheduler.adapters.redis_codec import text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.records import AuditEntry
from scheduler.redaction import redact

PAGE = 100


class AuditStore(StoreBase):
    """Appends and reads audit entries."""

    def audit(self, entry: AuditEntry) -> str:
        """Append `entry` (secret-looking details redacted) and return its stream id."""
        fields = {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "environment": entry.environment,
            "reason": entry.reason,
            "details": json.dumps(redact(entry.details), sort_keys=True, default=str),
        }
        return text(self.r.xadd(Keys.named("audit"), fields))

    def audit_log(self, limit: int = 50, environment: str | None = None) -> list[AuditEntry]:
        """The newest `limit` entries, newest first, optionally of one environment."""
        entries: list[AuditEntry] = []
        upper: str = "+"
        while len(entries) < limit:
            page = self.r.xrevrange(Keys.named("audit"), max=upper, min="-", count=max(limit, PAGE))
            for stream_id, raw in page:
                data = {text(k): text(v) for k, v in raw.items()}
                if environment is None or data["environment"] == environment:
                    data["details"] = json.loads(data["details"])
                    entries.append(AuditEntry.from_dict({**data, "id": text(stream_id)}))
            if len(page) < max(limit, PAGE):
                break
            upper = "(" + text(page[-1][0])
        return entries[:limit]
