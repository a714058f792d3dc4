"""The baseline: the cheapest FastAPI endpoint, served like the ledger app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.get("/noop")
def noop() -> dict[str, Any]:
    return {}
