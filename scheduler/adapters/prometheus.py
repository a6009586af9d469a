"""The Prometheus adapter: one instant query through `GET /api/v1/query` (optional Bearer token).

`instant_value` turns the answer into one number: a scalar's value, a vector's only sample, or the
maximum of a vector's samples (the busiest database decides). Everything else is a
`MetricsSourceError` with a message fit for a guard's reason: unreachable, slow, refused, an error
status, no sample (`MetricsNoData`), a range vector or string result, a NaN or infinite sample. Each
failure is counted as `pdm_api_errors_total{api="prometheus", kind=...}`. Messages name the server
by scheme, host and port only: never the token, never credentials in the URL.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from scheduler.adapters.redis_telemetry import count_api_error
from scheduler.errors import MetricsNoData, MetricsSourceError

API = "prometheus"
QUERY_PATH = "/api/v1/query"


def _fail(
    kind: str, message: str, error: type[MetricsSourceError] = MetricsSourceError
) -> MetricsSourceError:
    count_api_error(API, kind)
    return error(message)


def _where(url: str) -> str:
    split = urllib.parse.urlsplit(url)
    port = f":{split.port}" if split.port else ""
    return f"{split.scheme}://{split.hostname}{port}"


def _error_detail(raw: bytes) -> str:
    """`errorType: error` from a Prometheus error body, or '' when the body is not one."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("error"):
        kind = body.get("errorType")
        return f"{kind}: {body['error']}" if kind else str(body["error"])
    return ""


class PrometheusClient:
    """Instant queries against one Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, bearer_token: str | None = None) -> None:
        self._endpoint = base_url.rstrip("/") + QUERY_PATH
        self._where = _where(base_url)
        self._timeout = timeout
        self._token = bearer_token

    def instant_value(self, query: str) -> float:
        """The value of `query` now: a scalar, the only sample of a vector, or the largest sample."""
        body = self._get(query)
        if body.get("status") != "success":
            detail = str(body.get("error") or "no error message")
            kind = body.get("errorType")
            raise _fail(
                "query_error",
                f"Prometheus rejected the query {query!r}: {f'{kind}: ' if kind else ''}{detail}",
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise _fail("bad_response", f"Prometheus at {self._where} answered without a `data` object")
        return self._value(query, data.get("resultType"), data.get("result"))

    def _get(self, query: str) -> dict[str, Any]:
        url = self._endpoint + "?" + urllib.parse.urlencode({"query": query})
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(url, headers=headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc.read())
            raise _fail(
                f"http_{exc.code}",
                f"Prometheus at {self._where} answered HTTP {exc.code}" + (f": {detail}" if detail else ""),
            ) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timed_out() from None
            raise _fail("connection", f"Prometheus unreachable at {self._where} ({exc.reason})") from None
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as exc:
            raise _fail("connection", f"Prometheus unreachable at {self._where} ({exc})") from None
        try:
            body = json.loads(raw)
        except ValueError:
            raise _fail(
                "bad_response", f"Prometheus at {self._where} answered with something not JSON"
            ) from None
        if not isinstance(body, dict):
            raise _fail(
                "bad_response", f"Prometheus at {self._where} answered with a JSON {type(body).__name__}"
            )
        return body

    def _timed_out(self) -> MetricsSourceError:
        return _fail("timeout", f"Prometheus unreachable (timeout after {self._timeout:g}s) at {self._where}")

    def _value(self, query: str, result_type: object, result: object) -> float:
        if result_type == "scalar" and isinstance(result, list) and len(result) == 2:
            return self._number(query, result[1])
        if result_type == "vector" and isinstance(result, list):
            if not result:
                raise _fail("no_data", f"query returned no data: {query!r}", MetricsNoData)
            values = []
            for sample in result:
                pair = sample.get("value") if isinstance(sample, dict) else None
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _fail("bad_response", f"Prometheus at {self._where} answered a malformed sample")
                values.append(self._number(query, pair[1]))
            return max(values)
        if result_type in ("matrix", "string"):
            raise _fail(
                "bad_result",
                f"query returned a {result_type}, not one number (use an instant vector): {query!r}",
            )
        raise _fail(
            "bad_response", f"Prometheus at {self._where} answered an unknown result type {result_type!r}"
        )

    def _number(self, query: str, text: object) -> float:
        try:
            value = float(str(text))
        except ValueError:
            raise _fail(
                "bad_response", f"Prometheus at {self._where} answered a non-number {text!r}"
            ) from None
        if not math.isfinite(value):
            raise _fail("bad_result", f"query returned {text}: {query!r}")
        return value
