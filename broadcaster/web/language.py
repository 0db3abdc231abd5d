"""Vietnamese unless the person chose English (Django's set_language cookie): a station's browser may well
say English in its Accept-Language, and the console is for Vietnamese officers first."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


class StationLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
