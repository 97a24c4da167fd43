"""WSGI entry point: `gunicorn wsgi:app`, run from this folder so gunicorn.conf.py applies."""

import logging

from app import create_app
from app.cli.server import patched

app = create_app()

if not patched():
    logging.getLogger("app").warning(
        "gevent is not patched: a live status stream holds a whole worker; run "
        "`gunicorn wsgi:app` from the project folder (it reads gunicorn.conf.py) "
        "or `reverse-otp serve`"
    )
