"""Spotify for Artists: the audience timeline CSV (the Audience page's download) and the web
app's song-table responses, one per time filter."""

from __future__ import annotations

from .base import Capture, Dashboard, Extractor, LoginForm

URLS = {"audience": "c/audience", "songs": "c/music/songs"}
SELECTORS = {
    "artist_name": "[data-testid=artist-name]",
    "download_audience": "button[data-testid=audience-download]",
    "time_filter": "button[data-testid=time-filter][data-value='{value}']",
}
SONG_TABLE_API = r"/api/song-table\?.*time-filter="
TIME_FILTERS = ("7day", "28day", "1year")
LOGIN = LoginForm(path="login", username="input#login-username", password="input#login-password",
                  submit="button#login-button", code="input#mfa-code", code_submit="button#mfa-submit",
                  signed_in="[data-testid=artist-name]", error="[data-testid=login-error]")


def _extract(d: Dashboard) -> list[Capture]:
    out = [d.download(URLS["audience"], SELECTORS["download_audience"], "audience_timeline")]
    d.open(URLS["songs"])
    artist = d.text(SELECTORS["artist_name"])
    for value in TIME_FILTERS:
        button = SELECTORS["time_filter"].format(value=value)
        (response,) = d.responses(URLS["songs"], SONG_TABLE_API + value,
                                  trigger=lambda button=button: d.page.click(button))
        out.append(Capture("song_table", f"{artist}-song-table-{value}.json", response.body(), {"artist": artist}))
    return out


EXTRACTOR = Extractor("spotify_for_artists", "Spotify for Artists", "https://artists.spotify.com", LOGIN, _extract,
                      datasets=("audience_timeline", "song_table"),
                      what="audience timeline CSV, song-table JSON per time filter")
