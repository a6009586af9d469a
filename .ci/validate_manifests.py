"""Validate rendered Helm output against Kubernetes schemas and the chart's own invariants.

Usage: validate_manifests.py K8S_VERSION FILE...   (exit 1 and one line per problem on failure)
CRD kinds (ServiceMonitor) have no bundled schema and are skipped, by name, on stdout.
"""

from __future__ import annotations

import sys
from typing import Any

import kubernetes_validate
import yaml

CRD_GROUPS = ("monitoring.coreos.com/",)


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def invariant_problems(obj: dict[str, Any]) -> list[str]:
    """Hardening and process-count rules every rendered workload must keep."""
    kind, name = obj["kind"], obj["metadata"]["name"]
    problems: list[str] = []
    if kind not in ("Deployment", "StatefulSet"):
        return problems
    pod = obj["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{kind}/{name}: pod securityContext.runAsNonRoot is not true")
    for c in containers(obj):
        sc = c.get("securityContext", {})
        if not sc.get("readOnlyRootFilesystem"):
            problems.append(f"{kind}/{name}/{c['name']}: root filesystem is writable")
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{kind}/{name}/{c['name']}: capabilities are not all dropped")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{kind}/{name}/{c['name']}: privilege escalation allowed")
        if "resources" not in c:
            problems.append(f"{kind}/{name}/{c['name']}: no resources")
    if name.endswith("-cron") and (
        obj["spec"].get("replicas") != 1 or obj["spec"].get("strategy", {}).get("type") != "Recreate"
    ):
        problems.append(f"{kind}/{name}: cron must run exactly one replica with strategy Recreate")
    return problems


def check_file(path: str, version: str) -> tuple[int, list[str]]:
    """Return (objects validated, problems) for one multi-document YAML file."""
    with open(path, encoding="utf-8") as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d]
    problems: list[str] = []
    checked = 0
    seen: set[tuple[str, str]] = set()
    for obj in docs:
        ident = (obj.get("kind", "?"), obj.get("metadata", {}).get("name", "?"))
        if ident in seen:
            problems.append(f"{path}: duplicate {ident[0]}/{ident[1]}")
        seen.add(ident)
        if str(obj.get("apiVersion", "")).startswith(CRD_GROUPS):
            print(f"  skipped (CRD, no bundled schema): {ident[0]}/{ident[1]}")
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            location = "/".join(str(p) for p in err.path)
            problems.append(f"{path}: {ident[0]}/{ident[1]} at {location or '.'}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            problems.append(f"{path}: {ident[0]}/{ident[1]}: {err}")
        problems += [f"{path}: {p}" for p in invariant_problems(obj)]
        checked += 1
    return checked, problems


def main(argv: list[str]) -> int:
    version, paths = argv[0], argv[1:]
    total, problems = 0, []
    for path in paths:
        checked, found = check_file(path, version)
        print(f"  {path}: {checked} objects checked against Kubernetes {version}")
        total += checked
        problems += found
    for problem in problems:
        print(f"INVALID {problem}", file=sys.stderr)
    if total == 0:
        print("INVALID no objects rendered", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
