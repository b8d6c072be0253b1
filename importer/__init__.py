"""Bulk import of historic cases from a province's old system (``mediation import FILE``).

Transport and I/O around the domain; it imports ``mediation``, never the reverse.

- :mod:`importer.rows`: CSV/XLSX rows → typed ``HistoricCase`` values (the column table).
- :mod:`importer.build`: a ``HistoricCase`` → a new ``Case`` through its command methods;
  the studios and mediators the file needs, found or created.
- :mod:`importer.run`: :func:`importer.run.import_file`, two passes and batched saves, the
  summary and the refused rows.
- :mod:`importer.store`: the batch writer (the application's mapper and events table,
  binary ``COPY`` on PostgreSQL).
- :mod:`importer.cli`: ``mediation import`` (``mediation verify`` is in ``api.integrity_cli``).
"""
