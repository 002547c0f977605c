"""Behind a reverse proxy: which X-Forwarded-* headers to believe. None, unless configured."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """With TRUSTED_PROXY_COUNT = n, the client address (request.remote_addr, which the
    per-address login limit counts) and the scheme are the ones the n-th proxy from the app
    saw, read from X-Forwarded-For and X-Forwarded-Proto. With 0 (the default) those
    headers are ignored: any client can send them. X-Forwarded-Host is never believed:
    links in email use SITE_URL, and the proxy passes the Host header itself.
    """
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)
