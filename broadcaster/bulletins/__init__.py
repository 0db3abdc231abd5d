"""Commune bulletins: text to speech, composition, and the leadership's approval (docs/bulletins.md)."""
