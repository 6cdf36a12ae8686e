"""Run one query on a SQLite file through ADBC in a process of its own, and write the
result to stdout as an Arrow IPC stream.

ADBC's SQLite driver carries its own copy of the SQLite library. Two copies of SQLite
in one process must never open the same database: each keeps its own record of the
file's POSIX locks, so closing a file in one drops the locks the other holds, and a
database in WAL mode can then be read stale or damaged. The reader's own process opens
the source through Python's ``sqlite3`` (SQLAlchemy), so the columnar read runs here,
alone with the one copy it brings. Run as a script (not imported): it reads its job as
JSON on stdin (``path``, ``sql``, ``parameters``, ``batch_rows``, ``busy_ms``); a
failure is one line on stderr and exit status 1.
"""

import json
import sys


def main() -> int:
    import pyarrow as pa  # type: ignore[import-untyped]
    from adbc_driver_sqlite import dbapi

    job = json.loads(sys.stdin.read())
    try:
        with dbapi.connect(job["path"]) as connection, connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {int(job['busy_ms'])}")
            cursor.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(int(job["batch_rows"]))}
            )
            cursor.execute(job["sql"], job["parameters"])
            reader = cursor.fetch_record_batch()
            with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as stream:
                for batch in reader:
                    stream.write_batch(batch)
            connection.rollback()
    except Exception as error:  # every failure is reported to the reader
        sys.stderr.write(f"{type(error).__name__}: {error}".replace("\n", " ") + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
