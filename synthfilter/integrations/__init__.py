"""Integrations with other data engines (Ray Data)."""
