"""The WSGI entry point for production servers: ``gunicorn wsgi:app``.

Configuration comes from the ``ASSESS_*`` environment variables (interfaces.md). Served
from here the app runs as production (``ASSESS_ENV=production`` unless set otherwise):
Secure cookies, HSTS, and it refuses to start with debug on or without a strong
``ASSESS_SECRET_KEY`` (assess.security). Set ``ASSESS_DATABASE_URL`` (PostgreSQL), and run
``assess db upgrade`` before starting the workers: the app refuses to serve a database at
another migration than its own, in one line naming the cure (assess.schema).
``ASSESS_ENV=development`` serves a local trial without the production checks.
"""

import os

os.environ.setdefault("ASSESS_ENV", "production")

from assess import create_app, schema  # noqa: E402

app = create_app()
schema.check(app)
