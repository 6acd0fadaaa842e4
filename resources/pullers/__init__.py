"""The API pullers, by source name. Each lands every response in ``landing/<source>/<dataset>/``
through :mod:`resources.api`; the landing sensor ingests them like any dropped file."""

from __future__ import annotations

from ..api import Puller
from .instagram import Instagram
from .mailchimp import MailChimp
from .meta_ads import MetaAds
from .youtube import YouTube

PULLERS: dict[str, type[Puller]] = {p.source: p for p in (YouTube, MailChimp, Instagram, MetaAds)}

__all__ = ["PULLERS", "Instagram", "MailChimp", "MetaAds", "YouTube"]
