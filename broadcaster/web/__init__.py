"""The operator web console (Django): a process of its own beside the playout daemon.

It changes the station only through what the command line uses: config.yaml and playlists/ (round-trip edits,
picked up by the daemon's hot reload), the library's ingest, the break-in spool, and it reads the as-run log and
the state folder. Its own SQLite database (users, sessions, login attempts, the audit trail) lives in the
station's state folder. `python main.py web` serves it (broadcaster/commands/web.py).
"""

CONFIG_ENV = "BROADCASTER_CONFIG"  # the station's config.yaml, set before Django starts
