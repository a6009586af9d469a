"""Adapters: one module per outside system (Redis, GitLab, PostgreSQL, Prometheus, Grafana, RQ)."""
