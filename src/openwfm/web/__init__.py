"""The web application: server-rendered pages (Jinja2 + htmx) on the API's FastAPI app.

`mount(app)` adds the pages, their static files and their error pages to the app that
`openwfm.server.create_app` builds. Pages reuse the server's users, roles and tenancy
(`openwfm.server.permissions`) and its write paths (the schedule draft edit and publish,
forecast overrides); see docs/web.md.
"""

from __future__ import annotations

from openwfm.web.app import mount

__all__ = ["mount"]
