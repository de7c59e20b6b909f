"""For the tests that hold an app's installed SQL functions to its .sql files."""

from django.db import connection


def installed_and_file_definitions(function, path):
    """`function` as the database has it, and as `path` defines it, both as
    PostgreSQL prints a definition (pg_get_functiondef): the file is run in a
    scratch schema, inside the caller's transaction, which the test rolls back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [f"public.{function}"])
        installed = cursor.fetchone()[0]
        cursor.execute("CREATE SCHEMA cbs_sql_file_check")
        cursor.execute("SET LOCAL search_path = cbs_sql_file_check, public")  # its tables, as types
        cursor.execute(path.read_text(), None)
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [f"cbs_sql_file_check.{function}"])
        from_file = cursor.fetchone()[0].replace("cbs_sql_file_check.", "public.", 1)
        cursor.execute("RESET search_path")
    return installed, from_file
