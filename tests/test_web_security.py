"""The console's security, tested against the real server over HTTP (Playwright's request API, which keeps
cookies like a browser): the role matrix for every POST, CSRF, cookie flags, login throttling, paths."""

from __future__ import annotations

import pytest

from tests.support.web import (
    PASSWORD,
    needs_chromium,
)

pytestmark = needs_chromium

# Written out here, not read from broadcaster.web.roles: a change to the code's matrix must fail this test.
MATRIX = {  # action: roles that may do it
    "schedule": {"operator", "approver", "admin"},
    "playlist_edit": {"operator", "approver", "admin"},
    "library_upload": {"operator", "approver", "admin"},
    "library_edit": {"operator", "approver", "admin"},
    "library_decide": {"approver", "admin"},  # approve or reject a local clip
    "breakin": {"approver", "admin"},
    "bulletin_new": {"operator", "approver", "admin"},  # a draft
    "bulletin_decide": {"approver", "admin"},  # approve, reject, withdraw
    "users": {"admin"},
}


def api_login(browser, console, username: str, password: str = PASSWORD, address: str | None = None,
              **context_args):
    """A browser context logged in through the login form's POST; returns (context, response)."""
    headers = {"X-Forwarded-For": address} if address else {}
    context = browser.new_context(base_url=console.url, extra_http_headers=headers, **context_args)
    context.request.get("/login/")
    token = _token(context)
    response = context.request.post("/login/", form={"username": username, "password": password,
                                                     "csrfmiddlewaretoken": token}, max_redirects=0)
    return context, response


def _token(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")


def _post(context, action: str, sha256: str):
    token = {"csrfmiddlewaretoken": _token(context)}
    if action == "schedule":
        return context.request.post("/schedule/slots/new/", form={**token, "action": "preview", "id": "x"},
                                    max_redirects=0)
    if action == "playlist_edit":  # a check, not a save
        return context.request.post("/playlists/covid-2021/edit/", form={**token, "action": "check"},
                                    max_redirects=0)
    if action == "library_upload":
        return context.request.post("/library/upload/", multipart={**token, "category": "x"}, max_redirects=0)
    if action == "library_edit":
        return context.request.post(f"/library/{sha256}/edit/", form={**token, "title": "Mở đầu chương trình",
                                                                      "category": "ident"}, max_redirects=0)
    if action == "library_decide":  # an item already approved: told so to those who may decide
        return context.request.post(f"/library/{sha256}/decide/", form={**token, "decision": "approve"},
                                    max_redirects=0)
    if action == "breakin":
        return context.request.post("/breakin/send/", form={**token, "sha256": "", "level": "emergency"},
                                    max_redirects=0)
    if action == "bulletin_new":  # an empty form: re-shown with its errors to those who may write
        return context.request.post("/bulletins/new/", form={**token, "title": ""}, max_redirects=0)
    if action == "bulletin_decide":  # no such bulletin: told so to those who may decide
        return context.request.post("/bulletins/999999/decide/", form={**token, "decision": "approve"},
                                    max_redirects=0)
    return context.request.post("/users/change/", form={**token, "action": "role", "username": "viewer",
                                                         "role": "viewer"}, max_redirects=0)


def _an_item(console) -> str:
    from broadcaster.library.catalogue import Library

    folder = console.config.parent
    return Library(folder / "data" / "library.sqlite", folder / "audio").items()[0].sha256


@pytest.mark.parametrize("role", ["viewer", "operator", "approver", "admin"])
def test_every_post_is_checked_against_the_role_matrix(browser, console, role):
    context, response = api_login(browser, console, role)
    assert response.status == 302
    sha256 = _an_item(console)
    outcome = {action: _post(context, action, sha256).status for action in MATRIX}
    expected = {action: ("done" if role in roles else 403) for action, roles in MATRIX.items()}
    assert {a: ("done" if s in (200, 302) else s) for a, s in outcome.items()} == expected
    context.close()


def test_a_post_without_the_csrf_token_is_refused(browser, console):
    context, _ = api_login(browser, console, "admin")
    refused = context.request.post("/users/change/", form={"action": "role", "username": "viewer",
                                                           "role": "admin"}, max_redirects=0)
    assert refused.status == 403
    forged = context.request.post("/users/change/", form={"action": "role", "username": "viewer", "role": "admin",
                                                          "csrfmiddlewaretoken": "x" * 64}, max_redirects=0)
    assert forged.status == 403
    users = context.request.get("/users/").text()
    assert "<option selected>viewer</option>" in users.split('id="user-viewer"')[1].split("</tr>")[0]
    context.close()


def test_session_cookie_is_httponly_lax_and_secure_behind_tls(browser, console):
    context, _ = api_login(browser, console, "viewer")
    session = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert session["httpOnly"] is True and session["sameSite"] == "Lax" and session["secure"] is False
    context.close()
    # As nginx passes a TLS request on (docs/deploy.md): X-Forwarded-Proto from 127.0.0.1.
    tls = browser.new_context(base_url=console.url, extra_http_headers={"X-Forwarded-Proto": "https"})
    page = tls.request.get("/login/")
    assert "Secure" in page.headers["set-cookie"]
    token = page.headers["set-cookie"].split("csrftoken=")[1].split(";")[0]
    https_origin = console.url.replace("http://", "https://")
    logged = tls.request.post("/login/", form={"username": "viewer", "password": PASSWORD,
                                               "csrfmiddlewaretoken": token},
                              headers={"Origin": https_origin, "Referer": https_origin + "/login/",
                                       "Cookie": f"csrftoken={token}"}, max_redirects=0)
    assert logged.status == 302
    cookie = [h["value"] for h in logged.headers_array if h["name"].lower() == "set-cookie"
              and h["value"].startswith("sessionid=")][0]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tls.close()


def test_passwords_are_stored_as_argon2_hashes(console):
    import sqlite3

    with sqlite3.connect(console.config.parent / "data" / "web.sqlite3") as db:
        hashes = [row[0] for row in db.execute("SELECT password FROM auth_user")]
    assert hashes and all(h.startswith("argon2$argon2id$") for h in hashes)
    assert all("$m=19456,t=2,p=1$" in h for h in hashes)  # OWASP's minimum, not Django's 100 MiB a login
    assert not any(PASSWORD in h for h in hashes)


def test_no_path_from_the_browser_is_used_as_a_file_path(browser, console, tmp_path):
    from tests.support.web import mp3

    context, _ = api_login(browser, console, "operator")
    clip = mp3(tmp_path / "a.mp3", 990, 2).read_bytes()
    response = context.request.post("/library/upload/", multipart={
        "csrfmiddlewaretoken": _token(context), "category": "thu",
        "files": {"name": "../../../../tmp/escape.mp3", "mimeType": "audio/mpeg", "buffer": clip}})
    assert response.status == 200 and "thu/escape.mp3" in response.text()
    folder = console.config.parent
    assert (folder / "audio" / "thu" / "escape.mp3").is_file()
    assert not any(p.name.startswith("escape") for p in folder.parent.rglob("escape*") if "audio" not in p.parts)
    assert context.request.get("/library/..%2F..%2Fconfig.yaml/audio/").status == 404
    assert context.request.get("/library/" + "0" * 64 + "/audio/").status == 404
    context.close()


def test_five_failures_lock_the_user_name_and_the_address_for_15_minutes(browser, console):
    # Per address: five wrong passwords for made-up names from one address lock that address, even for a
    # right password; another address is not locked.
    for n in range(5):
        context, response = api_login(browser, console, f"ai-do-{n}", "sai-mat-khau", address="192.0.2.7")
        assert response.status == (200 if n < 4 else 429)  # the fifth failure locks
        context.close()
    context, response = api_login(browser, console, "operator", address="192.0.2.7")
    assert response.status == 429 and "khóa 15 phút" in response.text()
    context.close()
    context, response = api_login(browser, console, "operator", address="192.0.2.8")
    assert response.status == 302
    context.close()
    # Per user name: five failures from five addresses lock the name, from any address.
    for n in range(5):
        context, _ = api_login(browser, console, "viewer", "sai-mat-khau", address=f"198.51.100.{n + 1}")
        context.close()
    context, response = api_login(browser, console, "viewer", address="198.51.100.99")
    assert response.status == 429
    context.close()
