"""Thin listeners: `/pdm` subcommands, button actions and deploy events."""
