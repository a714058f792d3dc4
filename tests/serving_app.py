"""An app that names the process answering: for the tests of `api.serving`."""

from __future__ import annotations

import os

from fastapi import FastAPI

app = FastAPI()


@app.get("/pid")
def pid() -> dict[str, int]:
    return {"pid": os.getpid()}
