"""Configuration, read once from the environment at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.persistence import DatabaseLocation, server_location


class Settings(BaseSettings):
    """Environment variables: DATABASE_URL, LEDGER_DATA_DIR, LEDGER_ADMIN_TOKEN, ..."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=Path("var"), alias="LEDGER_DATA_DIR")
    admin_token: SecretStr | None = Field(default=None, alias="LEDGER_ADMIN_TOKEN")
    log_format: Literal["json", "console"] = Field(default="console", alias="LEDGER_LOG_FORMAT")
    log_level: str = Field(default="info", alias="LEDGER_LOG_LEVEL")
    run_projectors: bool = Field(default=True, alias="LEDGER_RUN_PROJECTORS")
    # How long a list or report read waits for the projections to catch up before a 503.
    read_wait_seconds: float = Field(default=5.0, alias="LEDGER_READ_WAIT_SECONDS")
    pool_size: int = Field(default=8, alias="LEDGER_POOL_SIZE")
    # Drafting and finalizing served without FastAPI's routing and dependencies (see
    # api/fast_path.py); off, every request goes through FastAPI, to compare.
    http_fast_path: bool = Field(default=True, alias="LEDGER_HTTP_FAST_PATH")
    # Base64 Ed25519 private key that signs chain checkpoints (`ledger checkpoint --new-key`).
    checkpoint_key: SecretStr | None = Field(default=None, alias="LEDGER_CHECKPOINT_KEY")

    def location(self) -> DatabaseLocation:
        return server_location(self.database_url, self.data_dir.resolve())
