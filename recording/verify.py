"""`remote-window verify PATH`: check case folders and system logs, name what is broken.

A case folder (one holding manifest.json, events.jsonl or the open marker) is
checked in this order, and the first problem is reported: still open; manifest
and signature present; signature over manifest.json against the trusted key;
session id against the folder name; the event chain (sequence, hashes, links);
its line count and last hash against the manifest; every listed file present
with its size; no file that the manifest does not list; every file's SHA-256.

A folder still carrying the open marker is reported BROKEN ("session still
open"): it has no signed manifest yet. Recovery (at server start) closes such
folders; verifying a live session is not supported.

A case file (`cases/<number>/`, recording/case_folder.py) is checked the same
way; its manifest names the case number instead of a session id.

A `system/` folder of daily logs is checked as one chain across its files. Its
newest last line can be deleted unnoticed: no manifest covers it.

Several server processes (server/cluster/) each have their own data dir, so
each has its own system chain and archive key. Given a folder holding their
data dirs (no key in it or above), every archive below is checked with its own
data dir's key: every process's chain and sessions.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recording.audit import check_chain, read_events
from recording.canonical import ZERO_HASH, sha256_file
from recording.case_folder import CASE_FORMAT, CASES_DIR
from recording.keys import (
    KEYS_DIR,
    PUBLIC_KEY_FILE,
    load_public_key,
    public_key_b64,
    verify_signature,
)
from recording.manifest import ACCESS_PREFIX, EVENTS, MANIFEST, OPEN_MARKER, SIGNATURE

SYSTEM_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\.jsonl")


@dataclass(frozen=True)
class Result:
    """The verdict on one case folder or one system log folder."""

    path: Path
    kind: Literal["session", "case", "system"]
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_session(folder: Path, public_key: Ed25519PublicKey) -> str | None:
    """None when the case folder is intact, else the first thing that does not match."""
    manifest_path, sig_path = folder / MANIFEST, folder / SIGNATURE
    if (folder / OPEN_MARKER).exists():
        if manifest_path.exists():
            return "session still open: finalisation did not complete"
        return "session still open: no manifest"
    if not manifest_path.is_file():
        return f"{MANIFEST} missing"
    if not sig_path.is_file():
        return f"{SIGNATURE} missing"
    data = manifest_path.read_bytes()
    try:
        signature = base64.b64decode(sig_path.read_bytes().strip(), validate=True)
    except binascii.Error:
        return f"{SIGNATURE}: not base64"
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not verify_signature(public_key, data, signature):
        if isinstance(manifest, dict) and manifest.get("public_key") not in (
            None,
            public_key_b64(public_key),
        ):
            return f"{SIGNATURE}: signed by a different key than the archive key"
        return f"{SIGNATURE}: signature does not match {MANIFEST}"
    if not isinstance(manifest, dict):
        return f"{MANIFEST}: not a JSON object"
    key, what = (
        ("case_number", "case number") if _is_case(manifest) else ("session_id", "session id")
    )
    if manifest.get(key) != folder.name:
        return f"{MANIFEST}: {what} {manifest.get(key)!r} is not the folder name"
    return _check_events(folder, manifest) or _check_files(folder, manifest)


def _is_case(manifest: dict) -> bool:
    return manifest.get("format") == CASE_FORMAT


def _check_events(folder: Path, manifest: dict) -> str | None:
    """The event chain, and its length and last hash against the manifest."""
    if not (folder / EVENTS).is_file():
        return f"{EVENTS} missing"
    chain = check_chain(folder / EVENTS)
    if chain.problem:
        return f"{EVENTS} {chain.problem}"
    recorded = manifest.get("events", {})
    signed = recorded.get("lines")
    if not isinstance(signed, int) or signed < 1 or chain.lines < signed:
        return f"{EVENTS}: {chain.lines} lines where the manifest records {signed}"
    events = read_events(folder / EVENTS)
    if events[signed - 1]["hash"] != recorded.get("last_hash"):
        return f"{EVENTS}: line {signed}'s hash differs from the manifest's last hash"
    for event in events[signed:]:
        if not str(event["type"]).startswith(ACCESS_PREFIX):
            return (
                f"{EVENTS} line {event['seq']}: {event['type']!r} added after the manifest "
                f"was signed (only {ACCESS_PREFIX}* events may follow)"
            )
    return None


def _check_files(folder: Path, manifest: dict) -> str | None:
    """Listed files present with their sizes, nothing extra, then every SHA-256."""
    entries = manifest.get("files", [])
    listed = {entry["path"] for entry in entries}
    for entry in entries:
        path = folder / entry["path"]
        if not path.is_file():
            return f"{entry['path']} missing"
        size = path.stat().st_size
        if size != entry["size"]:
            return f"{entry['path']}: size {size} where the manifest records {entry['size']}"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed and rel not in (MANIFEST, SIGNATURE, EVENTS):
            return f"{rel}: not in the manifest"
    for entry in entries:
        digest, _ = sha256_file(folder / entry["path"])
        if digest != entry["sha256"]:
            return f"{entry['path']}: sha256 does not match the manifest"
    return None


def verify_system_logs(folder: Path) -> str | None:
    """The daily system logs in `folder`, checked as one chain across days."""
    prev, prev_name = ZERO_HASH, ""
    for path in sorted(p for p in folder.iterdir() if SYSTEM_DAY.fullmatch(p.name)):
        before = f"the last line of {prev_name}" if prev_name else "the start of the chain"
        chain = check_chain(path, first_prev=prev, before=before)
        if chain.problem:
            return f"{path.name} {chain.problem}"
        if chain.lines:
            prev, prev_name = chain.last_hash, path.name
    return None


def verify_path(path: str | os.PathLike[str], public_key: Ed25519PublicKey) -> list[Result]:
    """Verify one case folder, or every case folder and system log folder under `path`."""
    root = Path(path)
    if root.is_file():
        root = root.parent
    results = []
    for dirpath, dirnames, filenames in os.walk(root):
        here, names = Path(dirpath), set(filenames)
        if names & {MANIFEST, EVENTS, OPEN_MARKER}:
            kind = "case" if here.parent.name == CASES_DIR else "session"
            results.append(Result(here, kind, _guard(verify_session, here, public_key)))
            dirnames.clear()
        elif here.name == "system" and any(SYSTEM_DAY.fullmatch(n) for n in names):
            results.append(Result(here, "system", _guard(verify_system_logs, here)))
            dirnames.clear()
        else:
            dirnames.sort()
    return results


def _guard(check: Callable[..., str | None], *args: Any) -> str | None:
    """Run one check; an unreadable file or malformed record is a finding, not a crash."""
    try:
        return check(*args)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        return f"cannot be checked: {exc!r}"


def find_public_key(path: str | os.PathLike[str]) -> Path | None:
    """`<data_dir>/keys/archive_ed25519.pub.pem`, looking upwards from `path`."""
    start = Path(path).resolve()
    for folder in (start, *start.parents):
        candidate = folder / KEYS_DIR / PUBLIC_KEY_FILE
        if candidate.is_file():
            return candidate
    return None


def data_dirs_below(path: Path) -> list[tuple[Path, Path]]:
    """(archive, its public key) of each data dir directly below `path` (or two levels)."""
    found = []
    for pattern in (f"*/{KEYS_DIR}/{PUBLIC_KEY_FILE}", f"*/*/{KEYS_DIR}/{PUBLIC_KEY_FILE}"):
        for key_file in sorted(path.glob(pattern)):
            archive = key_file.parent.parent / "archive"
            if archive.is_dir():
                found.append((archive, key_file))
        if found:
            break
    return found


def main(argv: list[str] | None = None) -> int:
    """CLI: 0 and `OK <n> session(s) verified` (`, <m> case file(s)` when there are);
    1 and `BROKEN: <path>: <what>` lines.

    2 when no usable public key is found (nothing could be verified).
    """
    parser = argparse.ArgumentParser(
        prog="remote-window verify", description="Verify case archive folders."
    )
    parser.add_argument(
        "path",
        help="a case folder, a date folder, the whole archive, or a folder of data dirs "
        "(several server processes: each archive with its own key)",
    )
    parser.add_argument("--key", help=f"public key PEM (default: the data dir's {PUBLIC_KEY_FILE})")
    args = parser.parse_args(argv)
    path = Path(args.path)
    if not path.exists():
        print(f"BROKEN: {path}: no such file or directory")
        return 1
    key_path = Path(args.key) if args.key else find_public_key(path)
    # Several server processes: a folder holding their data dirs, each archive
    # checked with its own data dir's key (one system chain per process).
    targets = [(path, key_path)] if key_path is not None else data_dirs_below(path)
    if not targets:
        where = f"{KEYS_DIR}/{PUBLIC_KEY_FILE}"
        print(f"error: no {where} in {path} or above; use --key FILE", file=sys.stderr)
        return 2
    results = []
    for target, key_file in targets:
        try:
            public_key = load_public_key(key_file)
        except (OSError, ValueError) as exc:
            print(f"error: {key_file}: {exc}", file=sys.stderr)
            return 2
        results += verify_path(target, public_key)
    broken = [r for r in results if not r.ok]
    for result in broken:
        print(f"BROKEN: {result.path}: {result.problem}")
    if broken:
        return 1
    cases = sum(r.kind == "case" for r in results)
    also = f", {cases} case file(s)" if cases else ""
    print(f"OK {sum(r.kind == 'session' for r in results)} session(s) verified{also}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
