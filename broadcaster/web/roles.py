"""Who may do what: the role matrix every POST is checked against on the server, and helpers for views."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from broadcaster.web.models import AuditEntry, Role

EDITORS = {Role.OPERATOR, Role.APPROVER, Role.ADMIN}
# action -> roles allowed. Every state-changing view names its action with @allowed.
ACTIONS: dict[str, set[str]] = {
    "schedule.edit": EDITORS,  # slots and blackouts in config.yaml
    "playlists.edit": EDITORS,  # playlists/*.yaml
    "library.change": EDITORS,  # upload, edit, retire, restore
    "library.decide": {Role.APPROVER, Role.ADMIN},  # approve or reject a local clip (TT 39/2020)
    "breakin.send": {Role.APPROVER, Role.ADMIN},  # Circular 39: leadership decides what interrupts
    "bulletins.write": EDITORS,  # a draft, which never airs until approved
    "bulletins.decide": {Role.APPROVER, Role.ADMIN},  # approve, reject, withdraw (and write-and-approve)
    "users.manage": {Role.ADMIN},
}
PAGES: dict[str, set[str]] = {  # pages not every role may see
    "users": {Role.ADMIN},
    "audit": {Role.ADMIN, Role.APPROVER},
}


def role_of(user) -> str:
    if not user.is_authenticated:
        return ""
    if user.is_superuser:
        return Role.ADMIN
    staff = getattr(user, "station_role", None)
    return staff.role if staff else Role.VIEWER


def may(user, action: str) -> bool:
    return role_of(user) in ACTIONS[action]


def allowed(action: str):
    """View decorator: 403 unless the user's role may do `action`."""
    def wrap(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not may(request.user, action):
                raise PermissionDenied(action)
            return view(request, *args, **kwargs)
        return checked
    return wrap


def page_for(page: str):
    def wrap(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if role_of(request.user) not in PAGES[page]:
                raise PermissionDenied(page)
            return view(request, *args, **kwargs)
        return checked
    return wrap


def audit(request, action: str, target: str = "", detail: str = "") -> AuditEntry:
    return audit_as(request.user.get_username(), role_of(request.user), action, target, detail)


def audit_as(username: str, role: str, action: str, target: str = "", detail: str = "") -> AuditEntry:
    """An audit row for work that finishes after its request (a bulletin still being spoken)."""
    return AuditEntry.objects.create(username=username, role=role, action=action, target=target[:300], detail=detail)


def role_context(request) -> dict:
    """Templates show only what the person may do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = role_of(user)
    return {"role": role, "can": {a.replace(".", "_"): role in roles for a, roles in ACTIONS.items()},
            "sees": {p: role in roles for p, roles in PAGES.items()}}
