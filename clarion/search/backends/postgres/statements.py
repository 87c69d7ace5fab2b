"""Sending statements with the planner settings they are to be planned with.

The planner does not know that testing a match reads a post's whole vector, so each
statement of a search is sent with the scans it may use (docs/search.md, "PostgreSQL: what
the speed costs"), in as few round trips as the connection allows.
"""

from __future__ import annotations

from django.db import connection

PARALLEL = "max_parallel_workers_per_gather"
PLANNER = ("enable_seqscan", "enable_indexscan", "enable_bitmapscan", PARALLEL)


def planner(walk_back: bool) -> dict[str, str]:
    """How the planner is told to find the newest matches: the walk back past DENSE
    (plain index scans, no bitmaps); else bitmaps, and no plain index scans. Never a
    sequential scan, nor parallel workers: starting them costs more than these statements
    take."""
    return {
        "enable_seqscan": "off",
        "enable_indexscan": "on" if walk_back else "off",
        "enable_bitmapscan": "off" if walk_back else "on",
        PARALLEL: "0",
    }


# The page statement always reads bitmaps (clarion/search/backends/postgres/page.py says why).
PAGE_PLANNER = planner(walk_back=False)


def set_planner(cursor, settings: dict[str, str]) -> dict[str, str]:
    """Set planner options for the rest of the transaction; return their previous values."""
    names = list(settings)
    cursor.execute(
        "SELECT "
        + ", ".join("current_setting(%s)" for _ in names)
        + ", "
        + ", ".join("set_config(%s, %s, true)" for _ in names),
        [*names, *(x for name in names for x in (name, settings[name]))],
    )
    return dict(zip(names, cursor.fetchone()[: len(names)], strict=True))


def one_string() -> bool:
    """Whether several statements may be sent in one query string: not when the database
    is configured for server-side binding (``OPTIONS["server_side_binding"]``, which a
    ``DATABASE_URL`` can set), whose prepared statements hold one each."""
    return connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True


def own_transaction() -> bool:
    """Whether a search runs outside any transaction and may send each statement with its
    planner settings in one string (run_planned); otherwise it opens a transaction (or a
    savepoint) and puts the settings back at its end."""
    return connection.get_autocommit() and one_string()


def run_planned(cursor, settings: dict[str, str], sql: str, params: list) -> list[tuple]:
    """The rows of ``sql``, planned with ``settings``, set in the same round trip.

    The settings are local to the transaction. Outside one, PostgreSQL runs the statements
    of one query string as one transaction, so they end with this round trip: a search
    needs no BEGIN and COMMIT of its own, nor a statement to put them back (each round trip
    cost 0.15-0.25 ms here). Without one string (one_string), two round trips.
    """
    setting = "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings)
    run_two(cursor, setting, [x for item in settings.items() for x in item], sql, params)
    return cursor.fetchall()


def run_two(cursor, first: str, first_params: list, second: str, second_params: list):
    """Run ``first``, then ``second``, in one round trip where one query string may hold
    both (one_string); return the rows of ``first`` and leave the cursor on ``second``'s."""
    if not one_string():
        cursor.execute(first, first_params)
        rows = cursor.fetchall()
        cursor.execute(second, second_params)
        return rows
    cursor.execute(f"{first}; {second}", [*first_params, *second_params])
    rows = cursor.fetchall()
    cursor.nextset()
    return rows
