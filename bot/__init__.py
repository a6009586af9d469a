"""Slack Bolt app, HTTP server, settings, Block Kit builders and the `pdm-bot` CLI."""
