#!/usr/bin/env python3
"""Turns a PostgreSQL URL (read from the environment variable named in argv[1]) into
PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE exports, so that psql gets the password
from its environment instead of its command line. Usage: eval "$(pgenv.py VAR [DBNAME])"."""
import os
import shlex
import sys
from urllib.parse import unquote, urlsplit

url = urlsplit(os.environ[sys.argv[1]])
values = {
    "PGHOST": url.hostname or "localhost",
    "PGPORT": str(url.port or 5432),
    "PGUSER": unquote(url.username or ""),
    "PGPASSWORD": unquote(url.password or ""),
    "PGDATABASE": sys.argv[2] if len(sys.argv) > 2 else unquote(url.path.lstrip("/")),
}
for key, value in values.items():
    print(f"export {key}={shlex.quote(value)}")
