"""Settings: command-line options over the environment over the defaults shipped in corpora/."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

ENV_EMAIL = "NCBI_EMAIL"
ENV_API_KEY = "NCBI_API_KEY"
ENV_EUTILS_URL = "MINER_EUTILS_URL"
ENV_DB = "MINER_DB"
ENV_LEXICON = "MINER_LEXICON"


class ConfigurationError(Exception):
    """A setting or a file the configuration names cannot be used (a usage error: exit 2)."""


def corpus_path(name: str) -> Path:
    """Path of a data file shipped in corpora/ (installed as the package ``miner.corpora``)."""
    return Path(str(resources.files("miner.corpora").joinpath(name)))


def user_lexicon_dir(env: dict[str, str] | None = None) -> Path | None:
    """The user's lexicon folder ($MINER_LEXICON, which `--lexicon` sets), added to the shipped lexicons."""
    value = (os.environ if env is None else env).get(ENV_LEXICON)
    return Path(value) if value else None


def load_defaults() -> dict:
    with corpus_path("defaults.toml").open("rb") as fh:
        return tomllib.load(fh)


def default_query() -> str:
    """The shipped PubMed query, comments removed."""
    return read_query_file(corpus_path("query.txt"))


def read_query_file(path: Path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return " ".join(" ".join(ln.split()) for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))


@dataclass(frozen=True)
class Settings:
    eutils_url: str
    tool: str
    email: str | None
    api_key: str | None
    batch_size: int
    timeout: float
    max_timeout: float
    give_up_after: float
    rate_without_key: float
    rate_with_key: float
    db: Path
    overlap_days: int
    deletion_check_days: int
    refresh_give_up_after: float

    @property
    def rate(self) -> float:
        """Requests per second allowed: NCBI's limit with or without an API key."""
        return self.rate_with_key if self.api_key else self.rate_without_key

    def with_options(self, **options: object) -> Settings:
        """A copy with the options that were given (None means: not given)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})

    def for_refresh(self) -> Settings:
        """The settings of the scheduled refresh, which may keep retrying longer than run/fetch."""
        return replace(self, give_up_after=self.refresh_give_up_after)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    defaults = load_defaults()
    eutils = defaults["eutils"]
    return Settings(
        eutils_url=env.get(ENV_EUTILS_URL) or eutils["url"],
        tool=eutils["tool"],
        email=env.get(ENV_EMAIL) or None,
        api_key=env.get(ENV_API_KEY) or None,
        batch_size=int(eutils["batch_size"]),
        timeout=float(eutils["timeout"]),
        max_timeout=float(eutils["max_timeout"]),
        give_up_after=float(eutils["give_up_after"]),
        rate_without_key=float(eutils["rate_without_key"]),
        rate_with_key=float(eutils["rate_with_key"]),
        db=Path(env.get(ENV_DB) or defaults["store"]["db"]),
        overlap_days=int(defaults["refresh"]["overlap_days"]),
        deletion_check_days=int(defaults["refresh"]["deletion_check_days"]),
        refresh_give_up_after=float(defaults["refresh"]["give_up_after"]),
    )
