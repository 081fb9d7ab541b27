"""ASGI entry point: HTTP through Django, websockets through Channels (read-only push)."""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

if settings.SERVE_MEDIA:
    # The embedded setup has no separate web server for /static/.
    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

from config.body_limits import BodyLimitASGI  # noqa: E402

# Outermost: Django's handler reads (and spools) the whole body before any Django middleware runs.
django_asgi_app = BodyLimitASGI(django_asgi_app)
if "daphne.server" in sys.modules:
    # Daphne itself reads a whole body before calling us: the same limit inside it (config/daphne_limits.py).
    from config.daphne_limits import limit_daphne_request_bodies

    limit_daphne_request_bodies()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded above)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from gallery.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
