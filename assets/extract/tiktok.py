"""TikTok Studio: the Overview export (a zip) and the Followers tab's export (the follower
count per day), downloaded as TikTok names them; the account is the handle the Studio shows."""

from __future__ import annotations

from .base import Capture, Dashboard, Extractor, LoginForm

URLS = {"overview": "tiktokstudio/analytics/overview", "followers": "tiktokstudio/analytics/followers"}
SELECTORS = {
    "handle": "[data-e2e=studio-account-handle]",
    "export": "button[data-e2e=analytics-export]",
    "follower_count": "[data-e2e=follower-count]",
}
LOGIN = LoginForm(path="login", username="input[name=username]", password="input[type=password]",
                  submit="button[data-e2e=login-button]", code="input[name=verify-code]",
                  code_submit="button[data-e2e=verify-button]", signed_in="[data-e2e=studio-account-handle]",
                  error="[data-e2e=login-error]")


def _extract(d: Dashboard) -> list[Capture]:
    d.open(URLS["overview"])
    account = {"account": d.text(SELECTORS["handle"]).lstrip("@")}
    overview = d.download(URLS["overview"], SELECTORS["export"], "overview", options=account)
    followers = d.download(URLS["followers"], SELECTORS["export"], "follower_history", options=account)
    d.text(SELECTORS["follower_count"])  # the tab shows the count: a page without it has changed
    return [overview, followers]


EXTRACTOR = Extractor("tiktok", "TikTok Studio", "https://www.tiktok.com", LOGIN, _extract,
                      datasets=("overview", "follower_history"), what="Overview and Followers exports")
