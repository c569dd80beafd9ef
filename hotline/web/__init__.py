"""The web consoles: pages for duty lawyers (/console), supervisors (/dashboard, /report/monthly)
and stations (/station), a login page, the live feed (server-sent events) and the console APIs.

Pages are static HTML shells; their scripts fetch JSON from the API and render it with textContent
only, so citizens' text never becomes markup (and the Content-Security-Policy forbids inline
scripts besides). Browser libraries (SIP.js, ECharts) come from the npm registry through
package.json and are served from node_modules, never from a CDN. `install_web(app)` wires it all.
"""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    from hotline.web import audit, console_api, dashboard_api, demo_api, feed, pages

    pages.install(app)
    for module in (feed, console_api, dashboard_api, audit, demo_api):
        app.include_router(module.router)
