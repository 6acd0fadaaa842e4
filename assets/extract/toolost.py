"""TooLost: the portal's analytics API responses (Spotify and Apple Music JSON), captured as the
analytics page loads them."""

from __future__ import annotations

from .base import Capture, Dashboard, Extractor, LoginForm

URLS = {"analytics": "portal/analytics"}
API = {  # the portal's XHRs, as URL regexes → the capture's name
    "spotify": (r"/api/portal/analytics/spotify\b", "toolost_spotify.json"),
    "apple": (r"/api/portal/analytics/apple\b", "toolost_apple.json"),
}
LOGIN = LoginForm(path="login", username="input#username", password="input#password",
                  submit="button#login-submit", code="input#totp", code_submit="button#totp-submit",
                  signed_in="nav.portal-nav", error=".login-error")


def _extract(d: Dashboard) -> list[Capture]:
    out = []
    for dataset, (pattern, name) in API.items():
        (response,) = d.responses(URLS["analytics"], pattern)
        out.append(Capture(dataset, name, response.body()))
    return out


EXTRACTOR = Extractor("toolost", "TooLost", "https://toolost.com", LOGIN, _extract, datasets=("spotify", "apple"),
                      what="the portal's Spotify and Apple Music analytics JSON")
