"""The chat's database from the environment: PostgreSQL when DATABASE_URL names one, else a tuned SQLite file.

Both are settings only: the code (rooms/models.py) is the same on either. Why each option: the
deployment page, docs/final/deployment.md.
"""

import dj_database_url

# --8<-- [start:sqlite]
# Several consumers (and several processes) write at once. SQLite has one writer at a time; these make
# the others queue for it instead of failing:
# - WAL: readers never wait for the writer, and the writer never waits for readers.
# - synchronous=NORMAL: in WAL mode a commit is written to the log but not synced to disk one by one;
#   a power cut may lose the last commits, never the file's consistency.
# - IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue on the busy
#   timeout. With the default (DEFERRED) one that read first and writes second fails at once with
#   "database is locked", whatever the timeout.
# - timeout: how long a writer waits in that queue before "database is locked" (seconds).
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
# --8<-- [end:sqlite]


def sqlite(path: str) -> dict:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, "OPTIONS": dict(SQLITE_OPTIONS)}


# --8<-- [start:postgresql]
def postgresql(url: str, pool_size: int) -> dict:
    """Under ASGI, Django's persistent connections (CONN_MAX_AGE > 0) are not reused reliably and can
    pile up, so its docs say: keep CONN_MAX_AGE at 0 and use the driver's pool. Each server process has
    its own pool of at most `pool_size` connections: processes x pool_size must stay below PostgreSQL's
    max_connections."""
    config = dj_database_url.parse(url, conn_max_age=0)
    config["OPTIONS"] = {**config.get("OPTIONS", {}),
                         "pool": {"min_size": 1, "max_size": pool_size, "timeout": 10}}
    return config
# --8<-- [end:postgresql]


def from_environment(database_url: str, sqlite_path: str, pool_size: int) -> dict:
    if not database_url:
        return sqlite(sqlite_path)
    if database_url.startswith("sqlite:"):
        return sqlite(dj_database_url.parse(database_url)["NAME"])
    return postgresql(database_url, pool_size)
