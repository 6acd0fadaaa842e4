"""Linktree: the admin app's analytics GraphQL responses, captured as the analytics page asks
for them."""

from __future__ import annotations

import json

from .base import Capture, Dashboard, ExtractError, Extractor, LoginForm

URLS = {"analytics": "admin/analytics"}
GRAPHQL = r"/graphql\b"
QUERIES = 2  # the overview, and the locations + referrers + links breakdowns
LOGIN = LoginForm(path="login", username="input[name=username]", password="input[name=password]",
                  submit="button[data-testid=login-submit]", code="input[name=totp]",
                  code_submit="button[data-testid=totp-submit]", signed_in="[data-testid=admin-nav]",
                  error="[data-testid=login-error]")


def _extract(d: Dashboard) -> list[Capture]:
    out = []
    for i, response in enumerate(d.responses(URLS["analytics"], GRAPHQL, count=QUERIES)):
        try:
            operation = json.loads(response.request.post_data or "{}").get("operationName") or f"query{i + 1}"
        except ValueError:
            raise ExtractError(f"linktree: a GraphQL request of {URLS['analytics']} is not JSON") from None
        out.append(Capture("graphql", f"graphql_{operation}.json", response.body()))
    return out


EXTRACTOR = Extractor("linktree", "Linktree", "https://linktr.ee", LOGIN, _extract, datasets=("graphql",),
                      what="analytics GraphQL responses")
