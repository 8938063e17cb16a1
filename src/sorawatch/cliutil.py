"""What every command module of the CLI shares: consoles, the config option, error exits."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from sorawatch.config import Config, load_config
from sorawatch.errors import ConfigError, ScenarioError, SorawatchError, StoreError

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="sorawatch YAML config file.")]


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc), 2)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning expected runtime problems into one line and exit code 3."""
    try:
        return asyncio.run(coro)
    except StoreError as exc:
        fail(str(exc), 3)
    except ScenarioError as exc:
        fail(str(exc), 2)
    except SorawatchError as exc:
        fail(str(exc), 3)
