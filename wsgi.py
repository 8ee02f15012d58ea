"""The WSGI entry point for production servers: ``gunicorn wsgi:app``.

Configuration comes from the ``ASSESS_*`` environment variables (interfaces.md); set
``ASSESS_SECRET_KEY`` and ``ASSESS_DATABASE_URL`` (PostgreSQL) explicitly in production,
and run ``assess db upgrade`` before starting the workers.
"""

from assess import create_app

app = create_app()
