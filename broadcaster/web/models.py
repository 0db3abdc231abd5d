"""The console's own records: each person's role, and the append-only audit trail of changes made here."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "viewer"
    OPERATOR = "operator", "operator"
    APPROVER = "approver", "approver"
    ADMIN = "admin", "admin"


class StaffRole(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="station_role")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    def __str__(self) -> str:
        return f"{self.user.username}: {self.role}"


class AppendOnly(Exception):
    pass


class AuditEntry(models.Model):
    """Who changed what, when. Rows are never updated or deleted (the migration adds SQLite triggers that refuse
    it, so not even a bug here or a hand-run SQL UPDATE through Django can rewrite the trail)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=16)
    action = models.CharField(max_length=64)  # e.g. "schedule.save", "library.upload", "breakin.send"
    target = models.CharField(max_length=300, blank=True)  # e.g. "config.yaml slots/sang", a file name
    detail = models.TextField(blank=True)  # the YAML diff, or what the library did

    class Meta:
        ordering = ["-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are never deleted")
