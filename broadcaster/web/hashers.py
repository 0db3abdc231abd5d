"""Password hashing for console logins: Argon2id with OWASP's minimum cost (19 MiB, 2 passes, 1 lane).

Django's default Argon2 takes 100 MiB for every login, which alone lifted the console's peak memory past its
120 MB budget on a small station box (bench/bench_web.py), and lets a few parallel login attempts take hundreds
of MB. Same algorithm name as Django's: hashes made with its defaults still verify, and are made again with these
costs at the next login (must_update)."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class StationArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
