"""Người dùng / users (admin only): add, change role, reset password, disable and enable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from broadcaster.problems import BroadcasterError
from broadcaster.web import accounts
from broadcaster.web.roles import allowed, audit, page_for, role_of
from broadcaster.web.templatetags.console import said


@page_for("users")
def users(request):
    people = [(u, role_of(u)) for u in get_user_model().objects.order_by("username")]
    return render(request, "web/users.html", {"people": people, "roles": accounts.ROLES})


@require_POST
@allowed("users.manage")
def change(request):
    post = request.POST
    action, name = post.get("action", ""), post.get("username", "")
    try:
        if action == "add":
            accounts.add_user(name, post.get("role", ""), post.get("password", ""))
            detail = f"added with role {post.get('role')}"
        elif action == "role":
            accounts.set_role(name, post.get("role", ""))
            detail = f"role → {post.get('role')}"
        elif action == "password":
            accounts.set_password(name, post.get("password", ""))
            detail = "password reset"
        elif action in ("disable", "enable"):
            if action == "disable" and name == request.user.get_username():
                messages.error(request, said(("Không thể tự khóa mình", "You cannot disable yourself")))
                return redirect("users")
            accounts.set_active(name, action == "enable")
            detail = f"{action}d"
        else:
            return redirect("users")
    except BroadcasterError as err:
        for problem in err.problems:
            messages.error(request, said(problem))
        return redirect("users")
    audit(request, f"users.{action}", name, detail)
    messages.success(request, f"{name}: {detail}")
    return redirect("users")
