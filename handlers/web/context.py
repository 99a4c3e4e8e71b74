"""The typed way routes reach the register and the console's settings (FastAPI dependencies)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from handlers.web.config import WebConfig
from models.register import Register


def register_of(request: Request) -> Register:
    """The stolen-phone register."""
    register: Register = request.app.state.register
    return register


def config_of(request: Request) -> WebConfig:
    """The console's settings."""
    config: WebConfig = request.app.state.config
    return config


RegisterDep = Annotated[Register, Depends(register_of)]
ConfigDep = Annotated[WebConfig, Depends(config_of)]
