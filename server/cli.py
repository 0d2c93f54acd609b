"""The `remote-window` command line (a contract: see DESIGN.md)."""

from __future__ import annotations

import argparse
import getpass
import sys
import tempfile

from aiohttp import web

from server.accounts import STAFF_ROLES, AccountDB, AccountError
from server.catalogue import load_catalogue
from server.config import Config, ConfigError, load_config
from server.data_dir import private_umask
from server.eventloop import new_event_loop
from server.logs import AccessLogger, setup_logging
from server.register.db import RegisterError
from server.register.startup import MIGRATED_EVENT, open_register
from server.store.journal import JournalError

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = (
    # username, role, display name, items, place, level
    # 三员分立: one account per admin role (they enrol TOTP at their first sign-in
    # when auth.totp_required_roles names their role).
    ("sysadmin", "sysadmin", "系统管理员", (), None, None),
    ("secadmin", "secadmin", "安全管理员", (), None, None),
    ("auditadmin", "auditadmin", "审计管理员", (), None, None),
    ("county-reviewer", "reviewer", "县级审批员 王敏", "county", "QH-COUNTY", "county"),
    ("city-reviewer", "reviewer", "市级审批员 李强", "city", "JZ-CITY", "city"),
    ("supervisor", "supervisor", "监管员 赵丽", (), None, None),
    ("village-agent", "agent", "帮办代办员 陈芳", (), "QH-LL-DC", None),
    ("village-agent2", "agent", "帮办代办员 刘军", (), "QH-LL-XC", None),
    ("township-admin", "township_admin", "柳林镇管理员 孙伟", (), "QH-LL", None),
)
DEMO_KIOSKS = (("城关镇 1 号窗口", "QH-CG"), ("柳林镇 1 号窗口", "QH-LL"))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="remote-window", description="虚拟远程窗口 / virtual remote window"
    )
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--config")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--data-dir")
    serve.add_argument("--redis", help="redis URL: share state with other processes")

    demo = sub.add_parser("demo", help="run with demo accounts, in-memory store")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--data-dir")

    user = sub.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=(*STAFF_ROLES, "admin"))
    add.add_argument("--password-stdin", action="store_true", required=True)
    add.add_argument("--items", default="", help="comma-separated item codes (reviewers)")
    add.add_argument("--place", help="place code (agents)")
    add.add_argument("--level", choices=("county", "city"))
    add.add_argument("--name", help="display name")
    add.add_argument(
        "--no-change",
        action="store_true",
        help="the person need not change this password at the first sign-in",
    )
    add.add_argument("--config")
    add.add_argument("--data-dir")

    for name, text in (
        ("disable", "disable an account (its sign-ins and sockets end)"),
        ("enable", "enable a disabled account"),
        ("passwd", "set a new password, read from standard input"),
        ("totp-reset", "remove the second factor (the person enrols again at sign-in)"),
    ):
        one = user_sub.add_parser(name, help=text)
        one.add_argument("username")
        if name == "passwd":
            one.add_argument("--password-stdin", action="store_true", required=True)
            one.add_argument("--no-change", action="store_true", help="no forced change")
        one.add_argument("--config")
        one.add_argument("--data-dir")
    ulist = user_sub.add_parser("list", help="list staff accounts")
    ulist.add_argument("--config")
    ulist.add_argument("--data-dir")

    kiosk = sub.add_parser("kiosk", help="kiosk devices")
    kiosk_sub = kiosk.add_subparsers(dest="kiosk_command", required=True)
    kadd = kiosk_sub.add_parser("add", help="register a kiosk; prints its token last")
    kadd.add_argument("name")
    kadd.add_argument("--place", required=True)
    kadd.add_argument("--config")
    kadd.add_argument("--data-dir")
    klist = kiosk_sub.add_parser("list", help="list kiosks (id, place, state, name)")
    klist.add_argument("--config")
    klist.add_argument("--data-dir")
    krevoke = kiosk_sub.add_parser(
        "revoke", help="revoke a kiosk's token for good; its sockets close"
    )
    krevoke.add_argument("kiosk", metavar="NAME-or-ID")
    krevoke.add_argument("--config")
    krevoke.add_argument("--data-dir")

    spot = sub.add_parser("spot-check", help="random spot checks of finished cases (随机抽查)")
    spot_sub = spot.add_subparsers(dest="spot_command", required=True)
    sdraw = spot_sub.add_parser("draw", help="draw a week's sample (once), seed recorded")
    sdraw.add_argument("--week", required=True, help="ISO week, e.g. 2026-W49")
    sdraw.add_argument("--seed", type=int, help="default: a random one (printed, recorded)")
    sredraw = spot_sub.add_parser("redraw", help="draw again from the recorded seed; compare")
    sredraw.add_argument("--week", required=True)
    for one in (sdraw, sredraw):
        one.add_argument("--config")
        one.add_argument("--data-dir")

    verify = sub.add_parser("verify", help="check a session folder or archive tree")
    verify.add_argument("path")
    verify.add_argument("--key", help="public key PEM (default: found from the data dir)")

    bench = sub.add_parser("bench", help="measure forwarding and recording cost")
    bench.add_argument("--sessions", type=int, required=True)
    bench.add_argument(
        "--participants",
        type=int,
        default=2,
        help="N-party: also measure sessions of this many participants (the reviewer invites "
        "colleagues) beside two-party ones, in the same run",
    )
    bench.add_argument("--seconds", type=float, required=True)
    bench.add_argument("--baseline", action="store_true")
    bench.add_argument("--baseline-sessions", type=int, default=1)
    bench.add_argument(
        "--baseline-format",
        choices=("webm", "mp4"),
        default="webm",
        help="what the naive MediaRecorder writes (webm: like the archive)",
    )
    bench.add_argument(
        "--stagger-ms",
        type=float,
        default=100,
        help="call session i at i*STAGGER ms (0: every reviewer calls at the same instant)",
    )
    bench.add_argument(
        "--decode-share",
        type=float,
        help="share of received video streams the clients decode (0..1); the others are "
        "counted as complete encoded frames (default: all up to 8 sessions, then 8 streams)",
    )
    bench.add_argument("--json")
    bench.add_argument("--data-dir")
    bench.add_argument(
        "--processes",
        type=int,
        default=1,
        help="several server processes sharing a real redis-server and PostgreSQL "
        "(127.0.0.1:5432, user postgres), each session's kiosk and reviewer on different ones",
    )

    stats_bench = sub.add_parser("bench-stats", help="time the statistics queries on many cases")
    from server.bench.stats_bench import add_arguments as add_stats_arguments

    add_stats_arguments(stats_bench)

    fanout = sub.add_parser("bench-fanout", help="measure queue pushes with many sockets")
    from server.bench.fanout import add_arguments

    add_arguments(fanout)

    capture = sub.add_parser(
        "bench-capture", help="time document-camera stills, click to shown on the desk"
    )
    from server.bench.capture import add_arguments as capture_arguments

    capture_arguments(capture)
    return p


def _config(args: argparse.Namespace, *, demo: bool = False) -> Config:
    overrides: dict[str, dict[str, object]] = {"server": {}}
    for key in ("host", "port", "data_dir"):
        value = getattr(args, key, None)
        if value is not None:
            overrides["server"][key] = value
    return load_config(getattr(args, "config", None), demo=demo, overrides=overrides)


def _serve(cfg: Config, redis_url: str | None = None, banner: str | None = None) -> None:
    from server.app import create_app

    setup_logging(cfg.logging.level, cfg.logging.json)
    app = create_app(cfg, redis_url=redis_url)

    def _listening(_message: str) -> None:
        # aiohttp calls this once every site listens: only then print URLs.
        print(banner or f"listening on http://{cfg.server.host}:{cfg.server.port}", flush=True)

    web.run_app(
        app,
        host=cfg.server.host,
        port=cfg.server.port,
        print=_listening,
        loop=new_event_loop(),
        access_log_class=AccessLogger,  # type: ignore[arg-type]
    )


def _audit(cfg: Config, type_: str, data: dict[str, object]) -> None:
    """Account changes from the command line go to the system audit log too."""
    from recording.audit import SystemAuditLog

    log = SystemAuditLog(cfg.data_dir / "archive")
    try:
        log.append(type_, f"cli:{getpass.getuser()}", data)
    finally:
        log.close()


def _accounts(cfg: Config) -> AccountDB:
    """The register's accounts (a first run migrates an old accounts file, audited)."""
    register, migrated = open_register(cfg)
    if migrated is not None:
        _audit(cfg, MIGRATED_EVENT, migrated.to_json())
    return AccountDB(register, own=True, policy=cfg.password)


def _seed_demo(cfg: Config) -> list[str]:
    catalogue = load_catalogue()
    db = _accounts(cfg)
    base = f"http://{cfg.server.host}:{cfg.server.port}"
    lines = ["", f"remote-window demo (in-memory store; data in {cfg.data_dir})", ""]
    lines.append(f"Staff sign-in: {base}/login   password for every demo account: {DEMO_PASSWORD}")
    for username, role, name, items, place, level in DEMO_USERS:
        codes = [i.code for i in catalogue.items.values() if i.level == items] if items else []
        try:
            db.add_user(
                username,
                DEMO_PASSWORD,
                role,
                display_name=name,
                items=codes,
                place=place,
                level=level,
            )
        except AccountError:
            pass  # already there from an earlier run with the same data dir
        lines.append(f"  {role:<10} {username:<16} {name}")
    lines.append("")
    lines.append("Kiosks (open on the township screen):")
    for name, place in DEMO_KIOSKS:
        _, token = db.add_kiosk(name, place)
        lines.append(f"  {name}: {base}/kiosk?token={token}")
    lines.append("")
    lines.append(f"Reviewer desk: {base}/desk    Admin: {base}/admin    Metrics: {base}/metrics")
    lines.append(
        f"Village agent (phone): {base}/village    Points ledger: {base}/points    "
        f"Supervision: {base}/supervision    Public catalogue: {base}/catalogue"
    )
    lines.append(
        f"Security admin: {base}/security    Audit log: {base}/audit    "
        f"(TOTP at first sign-in for: {', '.join(cfg.auth.totp_required_roles) or 'nobody'})"
    )
    db.close()
    return lines


def _user_command(cfg: Config, args: argparse.Namespace) -> None:
    db = _accounts(cfg)
    try:
        if args.user_command == "add":
            password = sys.stdin.readline().rstrip("\n")
            items = [c for c in args.items.split(",") if c]
            unknown = [c for c in items if c not in load_catalogue().items]
            if unknown:
                raise AccountError("items", "unknown", f"unknown codes {', '.join(unknown)}")
            user = db.add_user(
                args.username,
                password,
                args.role,
                display_name=args.name,
                items=items,
                place=args.place,
                level=args.level,
                must_change=not args.no_change,
            )
            _audit(cfg, "account.created", {"username": user.username, "role": user.role})
            print(f"created {user.role} {user.username}")
        elif args.user_command in ("disable", "enable"):
            disabled = args.user_command == "disable"
            _, changed = db.update_user(args.username, disabled=disabled)
            if changed:
                _audit(cfg, f"account.{args.user_command}d", {"username": args.username})
            print(f"{args.username}: {'disabled' if disabled else 'enabled'}")
        elif args.user_command == "passwd":
            password = sys.stdin.readline().rstrip("\n")
            db.set_password(args.username, password, must_change=not args.no_change)
            _audit(cfg, "account.password_reset", {"username": args.username})
            print(f"{args.username}: password set")
        elif args.user_command == "totp-reset":
            if db.get_user(args.username) is None:
                raise AccountError("username", "not_found", f"no account {args.username!r}")
            db.set_totp(args.username, None)
            _audit(cfg, "account.totp_reset", {"username": args.username})
            print(f"{args.username}: second factor removed")
        elif args.user_command == "list":
            for u in db.users():
                state = "disabled" if u.disabled else "active"
                print(f"{u.username}\t{u.role}\t{state}\t{u.place or '-'}\t{u.display_name}")
    finally:
        db.close()


def _kiosk_command(cfg: Config, args: argparse.Namespace) -> None:
    db = _accounts(cfg)
    try:
        if args.kiosk_command == "add":
            if args.place not in load_catalogue().places:
                raise AccountError("place", "unknown", f"unknown place code {args.place!r}")
            kiosk, token = db.add_kiosk(args.name, args.place)
            _audit(cfg, "kiosk.created", {"kiosk": kiosk.id, "place": kiosk.place})
            print(f"created kiosk {kiosk.id} at {kiosk.place}; device token:")
            print(token)
        elif args.kiosk_command == "list":
            for k in db.kiosks():
                print(f"{k.id}\t{k.place}\t{'revoked' if k.revoked else 'active'}\t{k.name}")
        elif args.kiosk_command == "revoke":
            kiosk, changed = db.revoke_kiosk(db.find_kiosk(args.kiosk).id)
            if changed:
                _audit(cfg, "kiosk.revoked", {"kiosk": kiosk.id, "place": kiosk.place})
            # A running server closes the kiosk's sockets at its next credential check.
            print(f"kiosk {kiosk.id} ({kiosk.name}) revoked")
    finally:
        db.close()


def _spot_check_command(cfg: Config, args: argparse.Namespace) -> int:
    """Draw or redraw a week; exit 0, or 1 when a redraw does not match the record."""
    from recording.audit import SystemAuditLog
    from server.register.case_types import CaseError
    from server.register.spot_checks import SpotCheckService

    register, _ = open_register(cfg)
    log = SystemAuditLog(cfg.data_dir / "archive")
    actor = f"cli:{getpass.getuser()}"
    try:
        service = SpotCheckService(
            register,
            load_catalogue(),
            cfg.spot_checks,
            lambda type_, who, data: log.append(type_, who, data),
        )
        try:
            if args.spot_command == "draw":
                draw = service.draw(actor, args.week, args.seed)
                print(f"week {draw['week']} seed {draw['seed']} share {draw['share']}")
                for department, p in sorted(draw["population"].items()):
                    print(f"  {department}: {p['drawn']} of {p['cases']}")
                for check in draw["checks"]:
                    print(f"{check['number']}\t{check['department']}")
                return 0
            result = service.redraw(actor, args.week)
        except CaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"week {result['week']} seed {result['seed']}")
        for number in result["drawn"]:
            print(number)
        if not result["same_population"]:
            print("NOTE: the week's decided cases differ from those at the draw")
        if result["same_sample"]:
            print("SAME: the redraw matches the recorded sample")
            return 0
        print(f"DIFFERENT: missing {result['missing']} extra {result['extra']}")
        return 1
    finally:
        log.close()
        register.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    private_umask()  # whatever this command creates in the data dir is the owner's alone
    try:
        if args.command == "serve":
            _serve(_config(args), redis_url=args.redis)
        elif args.command == "demo":
            if args.data_dir is None:
                args.data_dir = tempfile.mkdtemp(prefix="remote-window-demo-")
            cfg = _config(args, demo=True)
            _serve(cfg, banner="\n".join(_seed_demo(cfg)))
        elif args.command == "user":
            _user_command(_config(args, demo=True), args)
        elif args.command == "kiosk":
            _kiosk_command(_config(args, demo=True), args)
        elif args.command == "spot-check":
            return _spot_check_command(_config(args, demo=True), args)
        elif args.command == "verify":
            from recording.verify import main as verify_main

            return verify_main([args.path] + (["--key", args.key] if args.key else []))
        elif args.command == "bench":
            from server.bench.runner import run_bench

            return run_bench(args)
        elif args.command == "bench-stats":
            from server.bench.stats_bench import run_bench_stats

            return run_bench_stats(args)
        elif args.command == "bench-fanout":
            from server.bench.fanout import run_bench as run_fanout

            return run_fanout(args)
        elif args.command == "bench-capture":
            from server.bench.capture import run_bench as run_capture

            return run_capture(args)
    except (ConfigError, AccountError, JournalError, RegisterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
