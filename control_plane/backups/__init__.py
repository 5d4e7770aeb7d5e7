"""Backups and restores of cooperative workspaces (P4): see docs/backups.md and ``services``."""
