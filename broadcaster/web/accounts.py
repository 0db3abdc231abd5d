"""Console accounts: add, change role, reset password, disable. Used by `python main.py web adduser|passwd|
role|disable|enable` and by the users page, so both obey the same rules (Django's password validators)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from broadcaster.problems import BroadcasterError, Problem
from broadcaster.web.models import Role, StaffRole

ROLES = tuple(r.value for r in Role)


def _problem(vi: str, en: str, field: str = "") -> BroadcasterError:
    return BroadcasterError([Problem("web", vi, en, field=field or None)])


def _check_password(password: str, user=None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as err:
        raise _problem("mật khẩu quá ngắn (ít nhất 8 ký tự)", "; ".join(err.messages), "password") from None


def add_user(username: str, role: str, password: str, *, update: bool = False):
    """A new person with a role; `update`: if the name exists, set its role and password instead."""
    if role not in ROLES:
        raise _problem(f"vai trò không biết: {role!r}", f"unknown role {role!r} (use {', '.join(ROLES)})", "role")
    username = username.strip()
    if not username or len(username) > 150 or any(c.isspace() for c in username):
        raise _problem("tên đăng nhập không hợp lệ", "invalid user name (no spaces, at most 150 characters)",
                       "username")
    users = get_user_model()
    with transaction.atomic():
        user = users.objects.filter(username=username).first()
        if user is not None and not update:
            raise _problem(f"đã có người dùng '{username}'", f"user '{username}' already exists "
                           "(reset the password with 'web passwd')", "username")
        _check_password(password, user)
        if user is None:
            user = users.objects.create_user(username=username, password=password)
        else:
            user.set_password(password)
            user.is_active = True
            user.save()
        StaffRole.objects.update_or_create(user=user, defaults={"role": role})
    return user


def _get(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise _problem(f"không có người dùng '{username}'", f"no user '{username}'", "username")
    return user


def set_password(username: str, password: str):
    user = _get(username)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    return user


def set_role(username: str, role: str):
    if role not in ROLES:
        raise _problem(f"vai trò không biết: {role!r}", f"unknown role {role!r}", "role")
    user = _get(username)
    StaffRole.objects.update_or_create(user=user, defaults={"role": role})
    return user


def set_active(username: str, active: bool):
    """Disable (or enable again) a login; a disabled user's open sessions stop working at once."""
    user = _get(username)
    user.is_active = active
    user.save()
    return user
