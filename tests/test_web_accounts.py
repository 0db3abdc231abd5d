"""`python main.py web adduser|passwd|role|disable` for first setup, as an operator types them; and the audit
trail refuses changes in the database itself."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from tests.support.web import ROOT, main_py


def _station(tmp_path: Path) -> Path:
    (tmp_path / "config.yaml").write_text(
        "station: {commune: Xã Thử, name: Đài xã Thử}\nslots: []\n", encoding="utf-8")
    return tmp_path / "config.yaml"


def test_adduser_passwd_role_disable_from_the_command_line(tmp_path):
    config = _station(tmp_path)
    done = main_py("web", "adduser", "can-bo", "--role", "operator", "--password-stdin", "--config", str(config),
                   stdin="mat-khau-1\n")
    assert done.returncode == 0 and "OK: can-bo (operator)" in done.stdout
    again = main_py("web", "adduser", "can-bo", "--role", "admin", "--password-stdin", "--config", str(config),
                    stdin="mat-khau-2\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = main_py("web", "passwd", "can-bo", "--password-stdin", "--config", str(config), stdin="ngan\n")
    assert short.returncode == 2 and "mật khẩu quá ngắn" in short.stderr
    assert main_py("web", "role", "can-bo", "approver", "--config", str(config)).returncode == 0
    assert main_py("web", "disable", "can-bo", "--config", str(config)).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "web.sqlite3") as db:
        active, role = db.execute("SELECT u.is_active, r.role FROM auth_user u JOIN console_staffrole r "
                                  "ON r.user_id = u.id WHERE u.username = 'can-bo'").fetchone()
    assert (active, role) == (0, "approver")


def test_the_audit_trail_cannot_be_changed_or_deleted(tmp_path):
    config = _station(tmp_path)
    script = ("import sys\nfrom broadcaster.commands.web import start_django\nstart_django(sys.argv[1])\n"
              "from broadcaster.web.models import AuditEntry, AppendOnly\n"
              "e = AuditEntry.objects.create(username='a', role='admin', action='schedule.save', detail='+x')\n"
              "for attempt in (e.save, e.delete):\n"
              "    try:\n        attempt()\n    except AppendOnly:\n        print('refused')\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", script, str(config)], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["refused", "refused"], out.stderr
    with sqlite3.connect(tmp_path / "data" / "web.sqlite3") as db:  # even SQL by hand is refused
        for sql in ("UPDATE console_auditentry SET detail = 'y'", "DELETE FROM console_auditentry"):
            try:
                db.execute(sql)
                raise AssertionError(f"{sql} was allowed")
            except sqlite3.IntegrityError as err:
                assert "append-only" in str(err)
        assert db.execute("SELECT detail FROM console_auditentry").fetchall() == [("+x",)]
