"""remote-window server: HTTP pages and API, signaling, queues, media hub."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
CLIENT_DIR = PROJECT_ROOT / "client_web"
