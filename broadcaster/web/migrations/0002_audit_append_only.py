"""The audit trail refuses UPDATE and DELETE in the database itself (SQLite triggers)."""

from django.db import migrations

TABLE = "console_auditentry"

migrations_sql = [
    f"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
    f"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
]


class Migration(migrations.Migration):
    dependencies = [("console", "0001_initial")]
    operations = [
        migrations.RunSQL(migrations_sql, reverse_sql=[
            "DROP TRIGGER IF EXISTS audit_no_update;", "DROP TRIGGER IF EXISTS audit_no_delete;"]),
    ]
