"""Cookies marked Secure when the request came over TLS (nginx in front sets X-Forwarded-Proto: https), so the
same console serves plain http on loopback and https on the LAN without a setting to forget."""

from __future__ import annotations

from django.conf import settings


class SecureCookiesBehindTLS:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response
