"""The web consoles' pages: duty lawyers (/console), supervisors (/dashboard, /report/monthly),
stations (/station) and the login page, with their static files.

Pages are static HTML shells; their scripts fetch JSON from the API (hotline/api/, where the live
feed and the consoles' routes are too) and render it with textContent only, so citizens' text never
becomes markup (and the Content-Security-Policy forbids inline scripts besides). Browser libraries
(SIP.js, ECharts) come from the npm registry through package.json and are served from node_modules,
never from a CDN. `install_web(app)` mounts the pages.
"""

from __future__ import annotations

from fastapi import FastAPI


def install_web(app: FastAPI) -> None:
    from hotline.web import pages

    pages.install(app)
