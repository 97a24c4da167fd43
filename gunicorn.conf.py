"""gunicorn settings for `gunicorn wsgi:app` run from this folder (gunicorn reads this file).

The same settings as `reverse-otp serve` (app/cli/server.py): gevent workers, so a live status
stream holds a greenlet and not a whole worker, sized by `[streams] worker_connections`, with
the periodic jobs and callback delivery in each worker. gunicorn's command line overrides
them (`-b 0.0.0.0:8000`, `-w 4`).
"""

# gevent patches first, before anything imports requests: urllib3 copies names from the ssl
# module at import, and unpatched copies would block a whole worker on outbound HTTPS.
from gevent import monkey

monkey.patch_all()

from app.cli.server import conf_file  # noqa: E402 - after the patches, on purpose

globals().update(conf_file())
