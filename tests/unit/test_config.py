"""Configuration: layering, validation with named keys, the demo-secret guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.catalogue import load_catalogue, parse_catalogue
from server.config import DEMO_SECRET, ConfigError, load_config

SECRET = "a-real-secret-of-enough-length"


def test_defaults_load_in_demo_mode() -> None:
    cfg = load_config(demo=True, environ={})
    assert cfg.server.port == 8080 and cfg.queue.grace_seconds == 60
    assert cfg.store.backend == "memory"


def test_demo_secret_refused_outside_demo() -> None:
    with pytest.raises(ConfigError, match=r"server\.secret"):
        load_config(environ={})
    cfg = load_config(environ={"RW_SERVER__SECRET": SECRET})
    assert cfg.server.secret == SECRET and cfg.server.secret != DEMO_SECRET


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(f'[server]\nport = 9000\nsecret = "{SECRET}"\n[queue]\ngrace_seconds = 5\n')
    cfg = load_config(path, environ={"RW_SERVER__PORT": "9100", "RW_ICE__URLS": "stun:a,turn:b"})
    assert cfg.server.port == 9100
    assert cfg.queue.grace_seconds == 5.0
    assert cfg.ice.urls == ["stun:a", "turn:b"]


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"RW_SERVER__PORT": "eighty"}, "server.port"),
        ({"RW_STORE__BACKEND": "mongo"}, "store.backend"),
        ({"RW_QUEUE__GRACE_SECONDS": "-1"}, "queue.grace_seconds"),
        ({"RW_ICE__TURN_TTL_SECONDS": "90000"}, "ice.turn_ttl_seconds"),
        ({"RW_SIGNALING__MAX_MESSAGE_BYTES": "0"}, "signaling.max_message_bytes"),
        ({"RW_SERVER__TLS": "maybe"}, "server.tls"),
        ({"RW_CLUSTER__PLACEMENT": "random"}, "cluster.placement"),
        ({"RW_CLUSTER__HEARTBEAT_SECONDS": "0"}, "cluster.heartbeat_seconds"),
        (
            {"RW_CLUSTER__HEARTBEAT_SECONDS": "2", "RW_CLUSTER__EXPIRY_SECONDS": "2"},
            "cluster.expiry_seconds",
        ),
    ],
)
def test_bad_values_name_the_key(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(demo=True, environ=env)


def test_unknown_section_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[serverr]\nport = 1\n")
    with pytest.raises(ConfigError, match="serverr"):
        load_config(path, demo=True, environ={})
    path.write_text("[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_config(path, demo=True, environ={})
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_config(path, demo=True, environ={})


def test_demo_catalogue_is_realistic() -> None:
    cat = load_catalogue()
    assert len(cat.items) >= 10
    assert len({i.department.zh for i in cat.items.values()}) >= 5
    assert {i.level for i in cat.items.values()} == {"county", "city"}
    assert all(i.names.zh and i.names.en and i.materials for i in cat.items.values())
    kinds = {p.kind for p in cat.places.values()}
    assert {"county_hall", "township_centre", "village_point"} <= kinds
    assert "elderly" in cat.priority_classes


# The smallest item the catalogue accepts (also used by test_service_hours).
CATALOGUE_ITEM = {
    "code": "X-1",
    "zh": "测试",
    "en": "Test",
    "department": {"zh": "局", "en": "Bureau"},
    "level": "county",
    "modes": ["video"],
    "materials": [],
    "time_limit_days": 1,
}


def test_catalogue_validation_names_the_field() -> None:
    item = {**CATALOGUE_ITEM, "level": "province"}
    with pytest.raises(ConfigError, match=r"items\[0\]\.level"):
        parse_catalogue({"items": [item]})
    with pytest.raises(ConfigError, match=r"items\[0\]\.modes"):
        parse_catalogue({"items": [{**item, "level": "county", "modes": ["fax"]}]})


def test_account_security_settings_are_checked() -> None:
    cfg = load_config(demo=True, environ={})
    assert (cfg.auth.max_failed_logins, cfg.auth.lockout_minutes) == (5, 30)
    assert cfg.auth.totp_required_roles == ["sysadmin", "secadmin", "auditadmin"]
    for section, values in (
        ("auth", {"totp_required_roles": ["admin"]}),
        ("password", {"min_classes": 5}),
        ("password", {"min_length": 0}),
        ("auth", {"lockout_minutes": 0}),
    ):
        with pytest.raises(ConfigError):
            load_config(demo=True, environ={}, overrides={section: values})
    env = {"RW_AUTH__TOTP_REQUIRED_ROLES": "sysadmin", "RW_PASSWORD__HISTORY": "3"}
    cfg = load_config(demo=True, environ=env)
    assert cfg.auth.totp_required_roles == ["sysadmin"] and cfg.password.history == 3
