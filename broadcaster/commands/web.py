"""`web`: the operator console (served by waitress), and its accounts: `web adduser|passwd|role|disable|enable`."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from broadcaster.problems import fail

DEFAULT_LISTEN = "127.0.0.1:8080"  # loopback: LAN access goes through nginx with TLS (docs/deploy.md)
ROLES = ("operator", "approver", "viewer", "admin")


def register(sub, common) -> None:
    web = sub.add_parser("web", parents=[common], help="bảng điều khiển trên trình duyệt / the web console")
    web.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port (default {DEFAULT_LISTEN})")
    web.add_argument("--threads", type=int, default=4, help="request threads (default 4)")
    web.set_defaults(handler=cmd_serve)
    accounts = web.add_subparsers(dest="web_command", metavar="ACTION")
    add = accounts.add_parser("adduser", parents=[common], help="thêm người dùng / add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--update", action="store_true", help="if the user exists, set its role and password")
    add.set_defaults(handler=cmd_adduser)
    passwd = accounts.add_parser("passwd", parents=[common], help="đặt lại mật khẩu / reset a password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(handler=cmd_passwd)
    role = accounts.add_parser("role", parents=[common], help="đổi vai trò / change a role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=cmd_role)
    for action, text in (("disable", "khóa tài khoản / disable a login"), ("enable", "mở lại / enable it again")):
        p = accounts.add_parser(action, parents=[common], help=text)
        p.add_argument("name")
        p.set_defaults(handler=cmd_disable if action == "disable" else cmd_enable)


def start_django(config: str) -> None:
    """Point the console at this station, then set Django up and bring its database up to date."""
    from broadcaster.station.config import load_station
    from broadcaster.web import CONFIG_ENV

    load_station(config)  # a broken config.yaml is reported here, with file and line, before anything starts
    os.environ[CONFIG_ENV] = str(Path(config).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadcaster.web.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise fail("--listen", f"địa chỉ không hợp lệ: {text!r}", f"not host:port: {text!r}",
                   "ví dụ 127.0.0.1:8080", "e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def cmd_serve(args) -> int:
    host, port = _listen(args.listen)
    start_django(args.config)
    from waitress import serve

    from broadcaster.web.wsgi import application

    print(f"Bảng điều khiển / console: http://{host}:{port}/  (Ctrl+C để dừng / to stop)", flush=True)
    # trusted_proxy: nginx on the same machine passes the client's address and https (docs/deploy.md)
    serve(application, host=host, port=port, threads=max(1, args.threads), ident="broadcaster",
          trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"},
          clear_untrusted_proxy_headers=True, max_request_body_size=2 * 1024 ** 3)
    return 0


def _password(args, name: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"Mật khẩu cho / password for {name}: ")
    if first != getpass.getpass("Nhập lại / again: "):
        raise fail("password", "hai lần nhập không khớp", "the two passwords differ", "nhập lại", "try again")
    return first


def cmd_adduser(args) -> int:
    start_django(args.config)
    from broadcaster.web.accounts import add_user

    add_user(args.name, args.role, _password(args, args.name), update=args.update)
    print(f"OK: {args.name} ({args.role})")
    return 0


def cmd_passwd(args) -> int:
    start_django(args.config)
    from broadcaster.web.accounts import set_password

    set_password(args.name, _password(args, args.name))
    print(f"OK: {args.name}")
    return 0


def cmd_role(args) -> int:
    start_django(args.config)
    from broadcaster.web.accounts import set_role

    set_role(args.name, args.role)
    print(f"OK: {args.name} ({args.role})")
    return 0


def cmd_disable(args) -> int:
    start_django(args.config)
    from broadcaster.web.accounts import set_active

    set_active(args.name, False)
    print(f"OK: {args.name} đã khóa / disabled")
    return 0


def cmd_enable(args) -> int:
    start_django(args.config)
    from broadcaster.web.accounts import set_active

    set_active(args.name, True)
    print(f"OK: {args.name} mở lại / enabled")
    return 0
