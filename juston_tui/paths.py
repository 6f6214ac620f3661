"""Where juston-tui keeps its files (platformdirs), overridable by flag or environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path

from juston_tui import APP_NAME

DB_ENV = "JUSTON_TUI_DB"


def data_dir() -> Path:

    return user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:

    return user_config_path(APP_NAME, appauthor=False)


def first_page_dir() -> Path:
    """Where the registry's first screenful per store is kept (juston_tui.store.first_page):
    the user cache folder, so a read-only look writes nothing beside the store."""
    return user_cache_path(APP_NAME, appauthor=False) / "first-page"


def default_db_path() -> Path:
    return data_dir() / "store.json"


def resolve_db_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """`--db` beats `JUSTON_TUI_DB` beats the platform default."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def ensure_private_dir(path: Path) -> None:
    """Create a directory (and missing parents) readable by the owner only."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
