"""The web UI served by ``shoal serve`` at ``/``.

Pages are shells rendered here (``templates/``); small ES modules (``static/``) fill them from the JSON API,
sending the token the user saved in the browser's localStorage as ``Authorization: Bearer``. No build step,
no CDN: every asset ships in the package.
"""

from shoal.web.pages import install_web

__all__ = ["install_web"]
