"""Persistence: tables (models), the Database object (engine, sessions, transactions) and migrations.

Imports nothing from services: rules live there, storage only stores.
"""

from storage.db import DEFAULT_URL, Database, sync_url

__all__ = ["DEFAULT_URL", "Database", "sync_url"]
