"""A small GitLab REST v4 stand-in for tests: stdlib http.server in a thread on 127.0.0.1.

It answers the endpoints pdm-bot uses with GitLab's documented JSON shapes, paginates lists
(`page`/`per_page`, `Link: rel="next"`, `X-Next-Page`), checks `PRIVATE-TOKEN`, records every request
and can inject faults: a status code N times (`fail_next`), a status code on every read of one file
(`fail_file`), a slow answer N times (`slow_next`), a lost request (`drop_next`), and faults of the
pipeline POST that GitLab commits anyway (`fault_create`): create the pipeline then answer 502, create it
then answer after the client's timeout, or create it only late.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.servers.base import LocalServer, QuietHandler

ROUTES: list[tuple[str, str, str]] = [
    ("GET", r"/projects/(?P<project>[^/]+)/repository/compare", "compare"),
    ("GET", r"/projects/(?P<project>[^/]+)/repository/files/(?P<path>[^/]+)/raw", "file_raw"),
    ("GET", r"/projects/(?P<project>[^/]+)/repository/tree", "tree"),
    ("GET", r"/projects/(?P<project>[^/]+)/repository/commits/(?P<sha>[^/]+)", "commit"),
    ("GET", r"/projects/(?P<project>[^/]+)/environments", "environments"),
    ("GET", r"/projects/(?P<project>[^/]+)/deployments", "deployments"),
    ("POST", r"/projects/(?P<project>[^/]+)/pipeline", "create_pipeline"),
    ("GET", r"/projects/(?P<project>[^/]+)/pipelines/(?P<pid>\d+)/variables", "pipeline_variables"),
    ("GET", r"/projects/(?P<project>[^/]+)/pipelines/(?P<pid>\d+)", "pipeline"),
    ("GET", r"/projects/(?P<project>[^/]+)/pipelines", "pipelines"),
    ("GET", r"/projects/(?P<project>[^/]+)/issues", "issues"),
]


@dataclass
class Recorded:
    """One request as the server saw it (project and path segments already decoded)."""

    method: str
    endpoint: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    token: str | None


@dataclass(frozen=True)
class CreateFault:
    """How the next pipeline POST misbehaves: GitLab creates the pipeline (unless `creates` is False)
    whatever it answers."""

    before: float = 0.0  # seconds before GitLab creates the pipeline (a slow GitLab)
    after: float = 0.0  # seconds between creating it and answering
    status: int | None = None  # answered instead of 201
    creates: bool = True  # False: a proxy's error, GitLab never saw the POST


@dataclass
class FakeGitLabApi:
    """State of the GitLab REST API served over HTTP by `FakeGitLabServer` (the in-memory port fake is
    `tests.fakes.FakeGitLab`); tests fill the dicts and read `requests`."""

    token: str = "glpat-test-token"
    compares: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    file_faults: dict[str, int] = field(default_factory=dict)
    trees: dict[str, list[str]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    pipelines: dict[int, dict[str, Any]] = field(default_factory=dict)
    pipeline_variables: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    drops: list[float] = field(default_factory=list)
    create_faults: list[CreateFault] = field(default_factory=list)
    pipeline_time: str = "2026-01-10T01:00:00.000Z"  # created_at/updated_at of created pipelines
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests with `status`."""
        self.faults.extend([status] * times)

    def fail_file(self, path: str, status: int) -> None:
        """Answer every read of the file `path` (at any ref) with `status`."""
        self.file_faults[path] = status

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Wait `seconds` before answering each of the next `times` requests."""
        self.delays.extend([seconds] * times)

    def drop_next(self, seconds: float) -> None:
        """Hold the next request `seconds`, then close the connection without handling it (lost request)."""
        self.drops.append(seconds)

    def fault_create(
        self,
        *,
        status: int | None = None,
        before: float = 0.0,
        after: float = 0.0,
        creates: bool = True,
        times: int = 1,
    ) -> None:
        """Make the next `times` pipeline POSTs create the pipeline (after `before` seconds; not at all
        without `creates`), wait `after` seconds, then answer `status` (default: the normal 201)."""
        self.create_faults.extend([CreateFault(before, after, status, creates)] * times)

    def calls(self, endpoint: str) -> list[Recorded]:
        """Requests received for one endpoint name of ROUTES."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def add_deployment(self, dep_id: int, environment: str, sha: str, status: str, at: str) -> None:
        """Add a deployment shaped like GET /projects/:id/deployments items."""
        self.deployments.append(
            {
                "id": dep_id,
                "iid": dep_id,
                "ref": "master",
                "sha": sha,
                "status": status,
                "created_at": at,
                "updated_at": at,
                "user": {"id": 1, "username": "release-tools"},
                "environment": {"id": 1, "name": environment},
                "deployable": {"id": dep_id * 10, "status": status},
            }
        )

    # Endpoint implementations: (status, json body or text, query used for pagination) ---------------

    def handle(self, name: str, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        """Answer one request."""
        return getattr(self, f"_{name}")(p, q, body)  # type: ignore[no-any-return]

    def _compare(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        key = (q.get("from", ""), q.get("to", ""))
        if key not in self.compares:
            return 404, {"message": "404 Ref Not Found"}
        return 200, {
            "commit": {"id": key[1]},
            "commits": [],
            "diffs": self.compares[key],
            "compare_timeout": False,
            "compare_same_ref": False,
        }

    def _file_raw(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        if p["path"] in self.file_faults:
            return self.file_faults[p["path"]], {"message": f"{self.file_faults[p['path']]} injected"}
        text = self.files.get((p["path"], q.get("ref", "")))
        return (404, {"message": "404 File Not Found"}) if text is None else (200, text)

    def _tree(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        paths = self.trees.get(q.get("ref", ""))
        if paths is None:
            return 404, {"message": "404 Tree Not Found"}
        folder = q.get("path", "").rstrip("/")
        items = [
            {
                "id": f"{i:040x}",
                "name": path.rsplit("/", 1)[-1],
                "type": "blob",
                "path": path,
                "mode": "100644",
            }
            for i, path in enumerate(paths)
            if path.rsplit("/", 1)[0] == folder
        ]
        return 200, items

    def _commit(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        found = [sha for sha in self.commits if sha.startswith(p["sha"])]
        if len(found) != 1:
            return 404, {"message": "404 Commit Not Found"}
        return 200, {
            "id": found[0],
            "short_id": found[0][:8],
            "title": "Commit",
            "created_at": "2026-01-01T00:00:00Z",
        }

    def _environments(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        names = sorted({d["environment"]["name"] for d in self.deployments})
        return 200, [
            {"id": i + 1, "name": n, "state": "available"}
            for i, n in enumerate(names)
            if n == q.get("name", n)
        ]

    def _deployments(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        items = [
            d
            for d in self.deployments
            if d["environment"]["name"] == q.get("environment", d["environment"]["name"])
            and d["status"] == q.get("status", d["status"])
        ]
        return 200, sorted(items, key=lambda d: d["id"], reverse=q.get("sort", "asc") == "desc")

    def _create_pipeline(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        with self._lock:
            pid = max(self.pipelines, default=1000) + 1
            pipeline = {
                "id": pid,
                "iid": pid,
                "project_id": 2,
                "sha": "f" * 40,
                "ref": body["ref"],
                "status": "created",
                "source": "api",
                "created_at": self.pipeline_time,
                "updated_at": self.pipeline_time,
                "web_url": f"{self.url}/ops/deployer/-/pipelines/{pid}",
            }
            self.pipelines[pid] = pipeline
            self.pipeline_variables[pid] = [
                {"key": v["key"], "value": v["value"], "variable_type": "env_var"}
                for v in body.get("variables", [])
            ]
        return 201, pipeline

    def _pipeline(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        pipeline = self.pipelines.get(int(p["pid"]))
        return (404, {"message": "404 Not found"}) if pipeline is None else (200, pipeline)

    def _pipeline_variables(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        return 200, self.pipeline_variables.get(int(p["pid"]), [])

    def _pipelines(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        items = [
            pl
            for pl in self.pipelines.values()
            if all(pl.get(k) == q[k] for k in ("ref", "source", "status") if k in q)
            and pl["updated_at"] >= q.get("updated_after", "")
        ]
        return 200, sorted(items, key=lambda pl: pl["id"], reverse=q.get("sort", "desc") == "desc")

    def _issues(self, p: dict[str, str], q: dict[str, str], body: Any) -> tuple[int, Any]:
        wanted = set(filter(None, q.get("labels", "").split(",")))
        items = [
            i
            for i in self.issues
            if wanted <= set(i["labels"])
            and i["state"] == q.get("state", i["state"])
            and i["issue_type"] == q.get("issue_type", i["issue_type"])
        ]
        return 200, items


def _handler(fake: FakeGitLabApi) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            raw = self.body()
            body = json.loads(raw) if raw else None
            route = _route(method, split.path)
            name, params = route if route else ("unknown", {})
            with fake._lock:
                fake.requests.append(
                    Recorded(method, name, params, query, body, self.headers.get("PRIVATE-TOKEN"))
                )
                fault = fake.faults.pop(0) if fake.faults else None
                delay = fake.delays.pop(0) if fake.delays else 0.0
                drop = fake.drops.pop(0) if fake.drops else None
            if drop is not None:
                time.sleep(drop)
                self.close_connection = True
                return None
            if delay:
                time.sleep(delay)
            if fault is not None:
                return self._send(fault, {"message": f"{fault} injected"}, query)
            if self.headers.get("PRIVATE-TOKEN") != fake.token:
                return self._send(401, {"message": "401 Unauthorized"}, query)
            if route is None:
                return self._send(404, {"error": "404 Not Found"}, query)
            with fake._lock:
                faulty = name == "create_pipeline" and fake.create_faults
                create = fake.create_faults.pop(0) if faulty else None
            if create is None:
                status, payload = fake.handle(name, params, query, body)
            else:
                time.sleep(create.before)
                status, payload = fake.handle(name, params, query, body) if create.creates else (502, None)
                time.sleep(create.after)
                if create.status is not None:
                    status, payload = create.status, {"message": f"{create.status} injected"}
            self._send(status, payload, query)

        def _send(self, status: int, payload: Any, query: dict[str, str]) -> None:
            headers: dict[str, str] = {}
            if isinstance(payload, list):
                payload, headers = _paginate(payload, query, fake.url + urlsplit(self.path).path)
            if isinstance(payload, str):
                self.answer_text(status, payload, headers)
            else:
                self.answer(status, payload, headers)

    return Handler


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    rest = path.removeprefix("/api/v4")
    for verb, pattern, name in ROUTES:
        match = re.fullmatch(pattern, rest)
        if verb == method and match:
            return name, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def _paginate(items: list[Any], query: dict[str, str], base: str) -> tuple[list[Any], dict[str, str]]:
    page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items))}
    if page * per_page < len(items):
        nxt = urlencode({**query, "page": page + 1, "per_page": per_page})
        headers["X-Next-Page"] = str(page + 1)
        headers["Link"] = f'<{base}?{nxt}>; rel="next"'
    return chunk, headers


class FakeGitLabServer(LocalServer):
    """Runs a FakeGitLabApi on a free port until `stop()`; `url` is what python-gitlab takes."""

    def __init__(self, fake: FakeGitLabApi | None = None) -> None:
        self.fake = fake or FakeGitLabApi()
        super().__init__(_handler(self.fake))
        self.fake.url = self.url
