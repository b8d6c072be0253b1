"""The bare baseline server: one ``def hello()`` on FastAPI, served like the API."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
