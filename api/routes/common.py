"""Helpers shared by the routers: JSON responses with ETags, the problem responses."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel


def json_response(
    model: BaseModel, status: int = 200, *, etag: int | None = None, by_alias: bool = False
) -> Response:
    headers = {"ETag": f'"{etag}"'} if etag is not None else None
    return Response(
        content=model.model_dump_json(by_alias=by_alias),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def etag_header() -> dict[str, Any]:
    return {"ETag": {"description": 'the resource version, e.g. "3"', "schema": {"type": "string"}}}


def with_etag(description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses`` of a route that answers one resource with its version as the ETag."""
    return {status: {"description": description, "headers": etag_header()}}
