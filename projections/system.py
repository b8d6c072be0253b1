"""Wiring: the event-sourced application plus its read models. (STUB — being built.)

Public interface other layers rely on (keep these signatures):

    System(database_url: str | None = None, *, settings: Settings | None = None,
           clock: Clock | None = None, in_process: bool = True)
        .app: MediationApplication
        .engine: sqlalchemy.Engine            # read-model database
        .catch_up() -> int                    # process new events; last tracked position
        .wait_for(position: int, timeout: float = 5.0) -> None   # read-your-writes
        .lag() -> int                         # latest position - tracked position
        .close() -> None
"""

from __future__ import annotations
