"""The issuer service: an ASGI app (Starlette, served by uvicorn) over :mod:`vcsdk.registry`.

``create_app(settings)`` builds the app; ``load_settings(config)`` reads a TOML file and
``VCSDK_*`` environment variables. Needs the ``service`` extra (``pip install vcsdk[service]``).
"""

from .app import create_app
from .settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings"]
