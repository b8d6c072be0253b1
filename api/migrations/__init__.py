"""Alembic migrations of the account tables (``users``, ``account_changes``, ``login_attempts``).

Run at every start by :func:`api.migrate.upgrade`; ``docs/adr/0008-accounts-table-with-alembic.md``
says why the accounts are a table and not an event-sourced aggregate.
"""
