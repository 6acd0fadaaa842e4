"""DistroKid: the Bank → Details export (TSV download) and the saved streams and Apple Music stats
pages (the pages as the server sends them: their amCharts data is what the parser reads)."""

from __future__ import annotations

from .base import Capture, Dashboard, Extractor, LoginForm

URLS = {
    "bank_details": "bank/details",
    "streams_stats": "stats/?store=spotify",  # the streams chart of the Spotify store
    "applemusic_stats": "stats/applemusic",
}
SELECTORS = {"download_tsv": "a#download-bank-details-tsv"}
LOGIN = LoginForm(path="signin", username="input[name=email]", password="input[name=password]",
                  submit="button[type=submit]", code="input[name=otp]", code_submit="button[type=submit]",
                  signed_in="#dk-dashboard", error=".alert-danger")


def _extract(d: Dashboard) -> list[Capture]:
    return [
        # DistroKid's own download name varies; the lake knows the export by this one
        d.download(URLS["bank_details"], SELECTORS["download_tsv"], "bank_details", name="dk_bank_details.tsv"),
        d.document(URLS["streams_stats"], "streams_stats", "streams_stats.html"),
        d.document(URLS["applemusic_stats"], "applemusic_stats", "applemusic_stats.html"),
    ]


EXTRACTOR = Extractor("distrokid", "DistroKid", "https://distrokid.com", LOGIN, _extract,
                      datasets=("bank_details", "streams_stats", "applemusic_stats"),
                      what="bank details TSV, streams and Apple Music stats pages")
