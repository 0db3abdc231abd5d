"""`validate` and `plan`: check the station's files and show what will play when."""

from __future__ import annotations

from broadcaster.config import load_station


def register(sub, common) -> None:
    validate = sub.add_parser("validate", parents=[common], help="kiểm tra cấu hình / check config and playlists")
    validate.set_defaults(handler=cmd_validate)


def cmd_validate(args) -> int:
    station = load_station(args.config)
    for warning in station.warnings:
        print(warning)
    print(f"OK: {args.config}")
    return 0
