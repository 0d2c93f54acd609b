"""Configuration: config/default.toml, then --config FILE, then RW_* environment.

Every key is declared once in the dataclasses below; loading checks each value
against its declared type and names the offending key on failure.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server import CONFIG_DIR

DEMO_SECRET = "demo-secret-change-me"
ENV_PREFIX = "RW_"


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str = "./data"
    secret: str = DEMO_SECRET
    allowed_origins: list[str] = field(default_factory=list)
    # The address browsers use, e.g. "https://window.example.gov.cn": its origin
    # may open /ws and sign in even when the Host is a DNS name.
    public_url: str = ""
    tls: bool = False
    # Names this process in /metrics (the `process` label); empty: "<host>:<port>".
    process_id: str = ""

    @property
    def process_label(self) -> str:
        return self.process_id or f"{self.host}:{self.port}"


@dataclass(frozen=True)
class StoreConfig:
    backend: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "rw:"
    journal: bool = True


@dataclass(frozen=True)
class AuthConfig:
    session_idle_minutes: float = 15
    session_max_hours: float = 12
    idle_warning_seconds: float = 120
    max_failed_logins: int = 5
    lockout_window_minutes: float = 15
    lockout_minutes: float = 30
    address_max_failures: int = 20
    address_window_seconds: float = 300
    totp_required_roles: list[str] = field(default_factory=list)
    totp_issuer: str = "remote-window"
    audit_aggregate_seconds: float = 60
    socket_check_seconds: float = 5
    trusted_proxies: list[str] = field(default_factory=list)
    kiosk_token_days: float = 0


@dataclass(frozen=True)
class PasswordConfig:
    """Password policy (等保 2.0: complexity, no reuse)."""

    min_length: int = 12
    min_classes: int = 3  # of lower case, upper case, digits, other characters
    history: int = 5  # a new password may not be one of the last this many


@dataclass(frozen=True)
class QueueConfig:
    grace_seconds: float = 60
    default_handling_seconds: float = 300
    handling_window: int = 20
    push_coalesce_ms: float = 100


@dataclass(frozen=True)
class SignalingConfig:
    max_message_bytes: int = 65536
    rate_per_second: float = 20
    rate_burst: int = 40
    heartbeat_seconds: float = 15
    idle_timeout_seconds: float = 45
    max_connections: int = 2000
    max_connections_per_account: int = 3


@dataclass(frozen=True)
class MediaConfig:
    rejoin_grace_seconds: float = 30
    silence_seconds: float = 3
    reviewer_rejoin_seconds: float = 4
    keyframe_interval_ms: int = 300
    subscriber_queue_frames: int = 120
    # N-party sessions: the most participants of one session (kiosk, reviewer,
    # colleagues, inspector, observer) and how long an invited colleague's desk rings.
    max_participants: int = 6
    invite_seconds: float = 30


@dataclass(frozen=True)
class InspectionConfig:
    """云踏勘: the one-time invitation of a mobile inspector (server/inspection.py)."""

    # How long an invitation may wait to be opened; once joined it lasts the session.
    token_minutes: float = 30
    # Weak uplink: the phone sends a still this often instead of video (audio stays).
    stills_every_seconds: int = 10
    # The largest evidence still accepted, in bytes.
    max_still_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class IceConfig:
    urls: list[str] = field(default_factory=list)
    turn_secret: str = ""
    turn_ttl_seconds: int = 3600


@dataclass(frozen=True)
class ArchiveConfig:
    retention_days: int = 180
    cluster_seconds: float = 1.0


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""  # empty: SQLite in the data dir (register.sqlite3)


@dataclass(frozen=True)
class CasesConfig:
    holidays: str = ""  # holiday calendar file; empty: config/holidays.toml
    max_document_bytes: int = 10 * 1024 * 1024  # one stored material page (still, scan)


@dataclass(frozen=True)
class RatingsConfig:
    """好差评: applicants' ratings, and the follow-up (整改) of a bad one."""

    reasons: list[str] = field(
        default_factory=lambda: [
            "long_wait",
            "attitude",
            "unclear",
            "slow",
            "technical",
            "materials",
            "other",
        ]
    )
    comment_max_chars: int = 300
    session_window_minutes: float = 30  # a kiosk rates its session within this
    case_link_days: int = 7  # the receipt's rating page, from the case's decision
    followup_working_days: int = 5


@dataclass(frozen=True)
class SpotChecksConfig:
    """随机抽查: the weekly draw of finished cases per department."""

    share: float = 0.05
    min_per_department: int = 1


@dataclass(frozen=True)
class SupervisionConfig:
    """审管联动: the supervisors' live dashboard and live spot checks."""

    push_coalesce_ms: float = 1000  # at most one supervision.update per this interval
    worst_cases: int = 8  # cases near or past their deadline listed on the dashboard
    announce_observer: bool = True  # participants are told 监督人员在线 when observed


@dataclass(frozen=True)
class ClusterConfig:
    """Several server processes sharing the Redis store (server/cluster/)."""

    heartbeat_seconds: float = 1.0  # each process refreshes its registry entry this often
    expiry_seconds: float = 4.0  # an entry not refreshed for this long: the process is dead
    placement: str = "caller"  # a new session lives on: "caller" (the reviewer's process)
    # or "least_loaded" (the live process with the fewest sessions)
    address: str = ""  # how other processes name this one (default host:port)


@dataclass(frozen=True)
class PointsConfig:
    """乡村随身办's points ledger (积分)."""

    rules: str = ""  # the rules file; empty: config/points.toml
    grant_max: int = 100  # the most points one manual grant or correction may move


@dataclass(frozen=True)
class MetricsConfig:
    token: str = ""  # when set, GET /metrics needs "Authorization: Bearer <token>"


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"
    json: bool = True


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    password: PasswordConfig = field(default_factory=PasswordConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    signaling: SignalingConfig = field(default_factory=SignalingConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    inspection: InspectionConfig = field(default_factory=InspectionConfig)
    ice: IceConfig = field(default_factory=IceConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    cases: CasesConfig = field(default_factory=CasesConfig)
    ratings: RatingsConfig = field(default_factory=RatingsConfig)
    spot_checks: SpotChecksConfig = field(default_factory=SpotChecksConfig)
    supervision: SupervisionConfig = field(default_factory=SupervisionConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    points: PointsConfig = field(default_factory=PointsConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    demo: bool = False

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir).expanduser().resolve()


_CHOICES: dict[str, tuple[str, ...]] = {
    "store.backend": ("memory", "redis"),
    "logging.level": ("DEBUG", "INFO", "WARNING", "ERROR"),
    "cluster.placement": ("caller", "least_loaded"),
}
_POSITIVE = {
    "server.port",
    "auth.session_idle_minutes",
    "auth.session_max_hours",
    "auth.max_failed_logins",
    "auth.lockout_window_minutes",
    "auth.lockout_minutes",
    "password.min_length",
    "auth.address_max_failures",
    "auth.address_window_seconds",
    "auth.audit_aggregate_seconds",
    "auth.socket_check_seconds",
    "queue.default_handling_seconds",
    "queue.handling_window",
    "signaling.max_message_bytes",
    "signaling.rate_per_second",
    "signaling.rate_burst",
    "signaling.heartbeat_seconds",
    "signaling.idle_timeout_seconds",
    "signaling.max_connections",
    "signaling.max_connections_per_account",
    "media.keyframe_interval_ms",
    "media.silence_seconds",
    "media.subscriber_queue_frames",
    "inspection.token_minutes",
    "inspection.stills_every_seconds",
    "inspection.max_still_bytes",
    "ice.turn_ttl_seconds",
    "archive.retention_days",
    "archive.cluster_seconds",
    "cases.max_document_bytes",
    "ratings.comment_max_chars",
    "ratings.session_window_minutes",
    "ratings.case_link_days",
    "ratings.followup_working_days",
    "spot_checks.share",
    "supervision.push_coalesce_ms",
    "supervision.worst_cases",
    "cluster.heartbeat_seconds",
    "cluster.expiry_seconds",
    "points.grant_max",
}
MAX_TURN_TTL = 24 * 3600


def _field_type(section_obj: Any, key: str) -> Any:
    hints = typing.get_type_hints(type(section_obj))
    if key not in hints:
        raise ConfigError(f"unknown key {key!r} in section [{type(section_obj).__name__}]")
    return hints[key]


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check one value against its declared type; env strings are parsed."""
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list of {_type_name(inner)}, got {value!r}")
        return [_coerce(f"{key}[{i}]", v, inner) for i, v in enumerate(value)]
    if isinstance(tp, types.UnionType):
        raise ConfigError(f"{key}: unsupported type")
    if tp is bool:
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ConfigError(f"{key}: expected a whole number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{key}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{key}: unsupported type {tp!r}")


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str) -> None:
    for section, values in override.items():
        if section == "demo":
            base["demo"] = values
            continue
        if section not in base or not isinstance(values, Mapping):
            raise ConfigError(f"{where}: unknown section [{section}]")
        base[section].update(values)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        out.setdefault(section.lower(), {})[key.lower()] = value
    return out


def _validate(cfg: Config) -> None:
    for section in dataclasses.fields(cfg):
        obj = getattr(cfg, section.name)
        if not dataclasses.is_dataclass(obj):
            continue
        for f in dataclasses.fields(obj):
            key = f"{section.name}.{f.name}"
            value = getattr(obj, f.name)
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(
                    f"{key}: expected one of {', '.join(_CHOICES[key])}, got {value!r}"
                )
            if key in _POSITIVE and value <= 0:
                raise ConfigError(f"{key}: expected a value above 0, got {value!r}")
    if cfg.cluster.expiry_seconds <= cfg.cluster.heartbeat_seconds:
        raise ConfigError(
            "cluster.expiry_seconds: expected more than cluster.heartbeat_seconds, "
            f"got {cfg.cluster.expiry_seconds}"
        )
    if cfg.auth.kiosk_token_days < 0:
        raise ConfigError(
            f"auth.kiosk_token_days: expected 0 (never) or more, got {cfg.auth.kiosk_token_days}"
        )
    if cfg.server.public_url and not cfg.server.public_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"server.public_url: expected an http:// or https:// URL, got {cfg.server.public_url!r}"
        )
    if cfg.queue.push_coalesce_ms < 0:
        raise ConfigError(
            f"queue.push_coalesce_ms: expected 0 or more, got {cfg.queue.push_coalesce_ms}"
        )
    if cfg.queue.grace_seconds < 0:
        raise ConfigError(f"queue.grace_seconds: expected 0 or more, got {cfg.queue.grace_seconds}")
    if cfg.media.reviewer_rejoin_seconds < 0:
        raise ConfigError(
            "media.reviewer_rejoin_seconds: expected 0 or more, "
            f"got {cfg.media.reviewer_rejoin_seconds}"
        )
    if cfg.spot_checks.share > 1 or cfg.spot_checks.min_per_department < 0:
        raise ConfigError(
            "spot_checks: share is a fraction in (0, 1] and min_per_department 0 or more"
        )
    if not 1 <= cfg.password.min_classes <= 4 or cfg.password.history < 0:
        raise ConfigError("password: min_classes is 1 to 4 and history 0 or more")
    staff = (
        "reviewer",
        "supervisor",
        "agent",
        "township_admin",
        "sysadmin",
        "secadmin",
        "auditadmin",
    )
    unknown = [r for r in cfg.auth.totp_required_roles if r not in staff]
    if unknown:
        raise ConfigError(
            f"auth.totp_required_roles: unknown roles {unknown}; expected some of {list(staff)}"
        )
    if cfg.auth.idle_warning_seconds < 0:
        raise ConfigError("auth.idle_warning_seconds: expected 0 or more")
    if not cfg.ratings.reasons:
        raise ConfigError("ratings.reasons: expected at least one reason code")
    if cfg.ice.turn_ttl_seconds > MAX_TURN_TTL:
        raise ConfigError(
            f"ice.turn_ttl_seconds: expected at most {MAX_TURN_TTL} (24 h), "
            f"got {cfg.ice.turn_ttl_seconds}"
        )
    if not cfg.demo and cfg.server.secret == DEMO_SECRET:
        raise ConfigError(
            "server.secret: still the demo secret; set a long random value "
            "(config file or RW_SERVER__SECRET) before serving outside demo mode"
        )
    if not cfg.demo and len(cfg.server.secret) < 16:
        raise ConfigError("server.secret: expected at least 16 characters")


def load_config(
    path: str | Path | None = None,
    *,
    demo: bool = False,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Load and validate the configuration; raise ConfigError naming the bad key."""
    raw: dict[str, Any] = {f.name: {} for f in dataclasses.fields(Config) if f.name != "demo"}
    with open(CONFIG_DIR / "default.toml", "rb") as fh:
        _merge(raw, tomllib.load(fh), "config/default.toml")
    if path is not None:
        try:
            with open(path, "rb") as fh:
                _merge(raw, tomllib.load(fh), str(path))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _merge(raw, _env_overrides(os.environ if environ is None else environ), "environment")
    if overrides:
        _merge(raw, overrides, "arguments")
    is_demo = bool(raw.pop("demo", False)) or demo

    sections: dict[str, Any] = {}
    hints = typing.get_type_hints(Config)
    for name, values in raw.items():
        cls = hints[name]
        defaults = cls()
        kwargs = {}
        for key, value in values.items():
            kwargs[key] = _coerce(f"{name}.{key}", value, _field_type(defaults, key))
        sections[name] = cls(**kwargs)
    cfg = Config(**sections, demo=is_demo)
    _validate(cfg)
    return cfg
