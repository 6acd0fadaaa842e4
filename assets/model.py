"""The conformed model: every curated table's columns, natural key and partitioning.

This is the single place the curated schemas live; `docs/data-model.md` is generated from it.
Dates are DATE, money is DOUBLE in USD, counts are BIGINT. Every fact row carries ``source``,
``sha256`` (of its raw file) and ``observed_at`` (when the platform produced the export).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str


@dataclass(frozen=True)
class CuratedTable:
    name: str
    grain: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by: str | None = None  # a DATE column: one Parquet file per month

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _lineage() -> tuple[Column, ...]:
    return (
        Column("source", pa.string(), "source module that produced the row (`distrokid`, `spotify_for_artists`, ...)"),
        Column("sha256", pa.string(), "SHA-256 of the raw file the row came from"),
        Column("observed_at", pa.timestamp("us", tz="UTC"), "when the platform produced the export"),
    )


FCT_STREAMS_DAILY = CuratedTable(
    name="fct_streams_daily",
    grain="date × platform × source × artist × track",
    description=(
        "Daily streams as each source reports them. `artist` is null when the source reports the "
        "whole account (all its artists); `track` is null on totals over all tracks. The same "
        "streams can arrive through several sources: query `v_streams_daily` for one source per "
        "platform × artist × date."
    ),
    columns=(
        Column("date", pa.date32(), "day the streams happened"),
        Column("platform", pa.string(), "store the streams were on (`spotify`, `apple_music`, ...; `all` for several stores together)"),
        Column("artist", pa.string(), "artist name as the source spells it; null = every artist of the account"),
        Column("track", pa.string(), "track title; null = all tracks"),
        Column("isrc", pa.string(), "ISRC of the track when the source gives it"),
        Column("streams", pa.int64(), "streams that day"),
        Column("listeners", pa.int64(), "unique listeners that day, when the source gives them"),
        *_lineage(),
    ),
    key=("date", "platform", "source", "artist", "track"),
    partition_by="date",
)

FCT_ROYALTIES = CuratedTable(
    name="fct_royalties",
    grain="one statement line",
    description=(
        "Royalty statement lines from distributors. `line_seq` tells apart lines that are "
        "otherwise identical within one statement (same store, track, country and months)."
    ),
    columns=(
        Column("reporting_date", pa.date32(), "day the distributor reported the line"),
        Column("sale_month", pa.date32(), "first day of the month the sale or stream happened"),
        Column("store", pa.string(), "store as the distributor names it (`YouTube (Ads)`)"),
        Column("platform", pa.string(), "conformed platform of the store (`youtube`); `unknown` when unmapped"),
        Column("artist", pa.string(), "artist name"),
        Column("title", pa.string(), "track or album title"),
        Column("isrc", pa.string(), "ISRC"),
        Column("upc", pa.string(), "UPC of the release"),
        Column("country", pa.string(), "ISO 3166 alpha-2 country of sale; DistroKid's `OU` = outside the US"),
        Column("quantity", pa.int64(), "units (streams, downloads)"),
        Column("earnings_usd", pa.float64(), "earnings in USD"),
        Column("team_percentage", pa.float64(), "share of the earnings that goes to this account, in percent"),
        Column("item_type", pa.string(), "`Song` or `Album`"),
        Column("songwriter_royalties_withheld_usd", pa.float64(), "songwriter royalties withheld, USD"),
        Column("recoup_usd", pa.float64(), "amount recouped, USD (newer statements only)"),
        Column("line_seq", pa.int64(), "1 for the first of otherwise identical lines, 2 for the next, ..."),
        *_lineage(),
    ),
    key=("reporting_date", "sale_month", "store", "artist", "title", "isrc", "upc", "country", "item_type", "line_seq", "source"),
    partition_by="reporting_date",
)

FCT_STREAMS_TOTALS = CuratedTable(
    name="fct_streams_totals",
    grain="period × platform × source × artist × dimension × item",
    description=(
        "Streams over a reporting window broken down by one dimension: `track` (per song, with the "
        "ISRC when the source gives it) or `country` (ISO 3166 alpha-2). Sources report these as "
        "totals over a window (TooLost's tracks and countries, Spotify for Artists' song lists, "
        "DistroKid's Apple Music page), not per day, so they live apart from `fct_streams_daily`."
    ),
    columns=(
        Column("period_start", pa.date32(), "first day of the window the totals cover (null when the source does not say)"),
        Column("period_end", pa.date32(), "last day of the window"),
        Column("period", pa.string(), "the window as the source names it (`1year`, `28days`, `export`, ...)"),
        Column("platform", pa.string(), "store (`spotify`, `apple_music`, ...)"),
        Column("artist", pa.string(), "artist; null = every artist of the account"),
        Column("dimension", pa.string(), "`track` or `country`"),
        Column("item", pa.string(), "track title, or country code"),
        Column("isrc", pa.string(), "ISRC when the dimension is `track` and the source gives it"),
        Column("release_date", pa.date32(), "release date of the track, when given"),
        Column("streams", pa.int64(), "streams in the window"),
        Column("listeners", pa.int64(), "unique listeners in the window, when given"),
        Column("saves", pa.int64(), "saves in the window, when given"),
        *_lineage(),
    ),
    key=("period", "period_end", "platform", "source", "artist", "dimension", "item", "isrc"),
)

FCT_AUDIENCE_DAILY = CuratedTable(
    name="fct_audience_daily",
    grain="date × platform × source × artist",
    description="Daily audience of an artist on a platform, from the platform's artist dashboard.",
    columns=(
        Column("date", pa.date32(), "day"),
        Column("platform", pa.string(), "platform (`spotify`, ...)"),
        Column("artist", pa.string(), "artist"),
        Column("followers", pa.int64(), "followers at the end of the day"),
        Column("listeners", pa.int64(), "unique listeners that day"),
        Column("monthly_listeners", pa.int64(), "unique listeners over the 28 days up to the day, when given"),
        Column("monthly_active_listeners", pa.int64(), "monthly active listeners, when given"),
        Column("super_listeners", pa.int64(), "super listeners, when given"),
        Column("playlist_adds", pa.int64(), "playlist adds that day, when given"),
        Column("saves", pa.int64(), "saves that day, when given"),
        *_lineage(),
    ),
    key=("date", "platform", "source", "artist"),
    partition_by="date",
)

FCT_SOCIAL_DAILY = CuratedTable(
    name="fct_social_daily",
    grain="date × platform × source × account",
    description=(
        "Daily account-level numbers from social platforms (TikTok, YouTube, Instagram, Facebook, "
        "X). Counts are kept as the platform reports them, negative corrections included; a value "
        "the platform left `undefined`, or a metric the platform does not report, is null."
    ),
    columns=(
        Column("date", pa.date32(), "day"),
        Column("platform", pa.string(), "`tiktok`, `youtube`, `instagram`, `facebook`, `x`"),
        Column("account", pa.string(), "account handle or channel name"),
        Column("views", pa.int64(), "video or post views that day"),
        Column("profile_views", pa.int64(), "profile views (X: profile visits) that day"),
        Column("likes", pa.int64(), "likes that day"),
        Column("comments", pa.int64(), "comments (X: replies) that day (can be negative: platform corrections)"),
        Column("shares", pa.int64(), "shares (X: reposts and shares) that day"),
        Column("followers", pa.int64(), "followers at the end of the day"),
        Column("followers_change", pa.int64(), "followers gained minus lost that day"),
        Column("viewers", pa.int64(), "unique viewers that day, when given"),
        Column("new_viewers", pa.int64(), "viewers new to the account that day, when given"),
        Column("impressions", pa.int64(), "times posts were shown that day (X, YouTube thumbnails, Facebook)"),
        Column("reach", pa.int64(), "accounts reached that day (Instagram, Facebook)"),
        Column("engagements", pa.int64(), "interactions that day as the platform counts them (X engagements, Meta content interactions)"),
        Column("new_follows", pa.int64(), "follows (YouTube: subscribers gained) that day"),
        Column("unfollows", pa.int64(), "unfollows (YouTube: subscribers lost) that day"),
        Column("watch_time_hours", pa.float64(), "hours of video watched that day (YouTube)"),
        Column("subscribers", pa.int64(), "net subscribers gained that day (YouTube: gained − lost)"),
        *_lineage(),
    ),
    key=("date", "platform", "source", "account"),
    partition_by="date",
)

FCT_SOCIAL_POSTS = CuratedTable(
    name="fct_social_posts",
    grain="date × period × platform × source × account × post",
    description=(
        "Per-post and per-video numbers. `period` says what a row counts: `day` the numbers of that "
        "one day (YouTube's daily per-video chart and API), `lifetime` the totals since posting as "
        "of the export taken on `date` (TikTok Content, X and Meta Business Suite post exports), "
        "`window` the totals over `period_start`..`date` (YouTube Studio's table). Successive "
        "`lifetime` snapshots are kept, so growth between them can be measured. The view "
        "`fct_social_videos` shows the `lifetime` rows of videos under the table's former name and "
        "columns."
    ),
    columns=(
        Column("date", pa.date32(), "the day (`day`), the export day (`lifetime`) or the window's last day (`window`)"),
        Column("period", pa.string(), "`day`, `lifetime` or `window`"),
        Column("period_start", pa.date32(), "first day of a `window` row; null otherwise"),
        Column("platform", pa.string(), "`tiktok`, `youtube`, `instagram`, `facebook`, `x`"),
        Column("account", pa.string(), "account handle or channel name"),
        Column("post_id", pa.string(), "the platform's id of the post or video"),
        Column("post_type", pa.string(), "`video`, `post`, `reel`, `story`, ... as the platform says, when it does"),
        Column("title", pa.string(), "title, caption or post text"),
        Column("url", pa.string(), "link to the post"),
        Column("posted_at", pa.timestamp("us", tz="UTC"), "when it was posted"),
        Column("views", pa.int64(), "views (plays)"),
        Column("impressions", pa.int64(), "times shown"),
        Column("reach", pa.int64(), "accounts reached"),
        Column("likes", pa.int64(), "likes (reactions)"),
        Column("comments", pa.int64(), "comments (replies)"),
        Column("shares", pa.int64(), "shares (reposts)"),
        Column("saves", pa.int64(), "saves (bookmarks)"),
        Column("engagements", pa.int64(), "interactions as the platform counts them"),
        Column("watch_time_hours", pa.float64(), "hours watched (YouTube)"),
        Column("subscribers", pa.int64(), "net subscribers gained through the video (YouTube)"),
        *_lineage(),
    ),
    key=("date", "period", "platform", "source", "account", "post_id"),
    partition_by="date",
)

FCT_SOCIAL_TERRITORIES = CuratedTable(
    name="fct_social_territories",
    grain="snapshot date × platform × account × territory",
    description="Where an account's followers are, as a share of all followers, as of each export.",
    columns=(
        Column("snapshot_date", pa.date32(), "day the export was taken"),
        Column("platform", pa.string(), "`tiktok`, ..."),
        Column("account", pa.string(), "account handle"),
        Column("territory", pa.string(), "ISO 3166 alpha-2 code when the name is known, else the name as given"),
        Column("share", pa.float64(), "share of followers, 0..1"),
        *_lineage(),
    ),
    key=("snapshot_date", "platform", "source", "account", "territory"),
)

FCT_AD_PERFORMANCE = CuratedTable(
    name="fct_ad_performance",
    grain="campaign × ad set × reporting window",
    description=(
        "Ad delivery and spend per ad set and reporting window (a day when the export is daily). "
        "`spend_usd` is set when the account currency is USD; other currencies keep `spend` and "
        "`currency` and leave `spend_usd` null rather than guess a rate."
    ),
    columns=(
        Column("date_start", pa.date32(), "first day of the window"),
        Column("date_stop", pa.date32(), "last day of the window"),
        Column("platform", pa.string(), "`meta`, ..."),
        Column("account_id", pa.string(), "ad account, when given"),
        Column("campaign_id", pa.string(), "campaign id (`name:<campaign name>` when an export has no ids)"),
        Column("campaign_name", pa.string(), "campaign name"),
        Column("adset_id", pa.string(), "ad set id (`name:<ad set name>` when an export has no ids)"),
        Column("adset_name", pa.string(), "ad set name"),
        Column("currency", pa.string(), "ISO 4217 currency of `spend`"),
        Column("spend", pa.float64(), "amount spent in `currency`"),
        Column("spend_usd", pa.float64(), "amount spent in USD (null when the currency is not USD)"),
        Column("impressions", pa.int64(), "impressions"),
        Column("clicks", pa.int64(), "clicks"),
        Column("reach", pa.int64(), "people reached"),
        Column("frequency", pa.float64(), "impressions per person reached"),
        Column("cpc", pa.float64(), "cost per click in `currency`"),
        Column("ctr", pa.float64(), "click-through rate in percent"),
        *_lineage(),
    ),
    key=("date_start", "date_stop", "platform", "source", "campaign_id", "adset_id"),
    partition_by="date_start",
)

DIM_AD_CAMPAIGN = CuratedTable(
    name="dim_ad_campaign",
    grain="platform × campaign",
    description="Ad campaigns: name, status and objective, newest export wins.",
    columns=(
        Column("platform", pa.string(), "`meta`, ..."),
        Column("campaign_id", pa.string(), "campaign id"),
        Column("campaign_name", pa.string(), "campaign name"),
        Column("status", pa.string(), "`ACTIVE`, `PAUSED`, ..."),
        Column("objective", pa.string(), "campaign objective (`OUTCOME_TRAFFIC`, ...)"),
        Column("start_time", pa.timestamp("us", tz="UTC"), "when the campaign starts"),
        Column("created_time", pa.timestamp("us", tz="UTC"), "when it was created"),
        Column("updated_time", pa.timestamp("us", tz="UTC"), "when it was last changed"),
        *_lineage(),
    ),
    key=("platform", "campaign_id"),
)

FCT_LINK_CLICKS_DAILY = CuratedTable(
    name="fct_link_clicks_daily",
    grain="date × platform × source × account",
    description="Daily views and clicks of a link-in-bio page.",
    columns=(
        Column("date", pa.date32(), "day"),
        Column("platform", pa.string(), "`linktree`, ..."),
        Column("account", pa.string(), "page or account name, when known"),
        Column("views", pa.int64(), "page views"),
        Column("unique_views", pa.int64(), "unique page views"),
        Column("clicks", pa.int64(), "link clicks"),
        Column("unique_clicks", pa.int64(), "unique link clicks"),
        Column("click_through_rate", pa.float64(), "clicks per view, as the platform reports it"),
        *_lineage(),
    ),
    key=("date", "platform", "source", "account"),
    partition_by="date",
)

FCT_LINK_BREAKDOWN = CuratedTable(
    name="fct_link_breakdown",
    grain="window × platform × account × dimension × item",
    description=(
        "Link-in-bio views and clicks over a window, broken down by `location` (country), "
        "`referrer` or `link` (one of the page's links)."
    ),
    columns=(
        Column("period_start", pa.date32(), "first day of the window, when known"),
        Column("period_end", pa.date32(), "last day of the window, when known"),
        Column("platform", pa.string(), "`linktree`, ..."),
        Column("account", pa.string(), "page or account name, when known"),
        Column("dimension", pa.string(), "`location`, `referrer` or `link`"),
        Column("item", pa.string(), "country, referrer, or link title"),
        Column("url", pa.string(), "link target, for `link`"),
        Column("views", pa.int64(), "views, when given"),
        Column("clicks", pa.int64(), "clicks"),
        *_lineage(),
    ),
    key=("period_start", "period_end", "platform", "source", "account", "dimension", "item"),
)

FCT_SALES = CuratedTable(
    name="fct_sales",
    grain="one sale line",
    description=(
        "Direct sales to fans (Bandcamp): one row per sale line, a refund or a reversal (negative "
        "quantity and money). Payouts from the platform to you are not sales and are left out. "
        "Money is in the sale's `currency`; `net_usd` is set only when that currency is USD (no "
        "exchange rate is guessed). Nothing about the buyer is kept but the country."
    ),
    columns=(
        Column("date", pa.date32(), "day of the sale (UTC)"),
        Column("sold_at", pa.timestamp("us", tz="UTC"), "when the sale, refund or reversal happened"),
        Column("platform", pa.string(), "where the fan bought (`bandcamp`)"),
        Column("artist", pa.string(), "artist name as the platform spells it"),
        Column("item_type", pa.string(), "`album`, `track`, `package` (merch, physical), `refund` or `reversal`"),
        Column("item_name", pa.string(), "the album, track or package sold"),
        Column("isrc", pa.string(), "ISRC of a track, when given"),
        Column("upc", pa.string(), "UPC of an album or package, when given"),
        Column("quantity", pa.int64(), "units; negative on refunds and reversals; null on a partial refund that names none"),
        Column("currency", pa.string(), "ISO 4217 currency of the money columns"),
        Column("gross", pa.float64(), "what the fan paid for the line (item total: price × quantity, extra contribution, shipping, seller tax)"),
        Column("fees", pa.float64(), "gross − net: the payment processor's fee, the platform's share and taxes it remits"),
        Column("net", pa.float64(), "what reached you for the line"),
        Column("net_usd", pa.float64(), "`net` when the currency is USD, else null"),
        Column("country", pa.string(), "ISO 3166 alpha-2 country of the buyer, when given"),
        Column("transaction_id", pa.string(), "the platform's transaction id; `at:<time>` when the export has none"),
        Column("line_seq", pa.int64(), "1 for the first of otherwise identical lines of one transaction, 2 for the next, ..."),
        *_lineage(),
    ),
    key=("platform", "source", "transaction_id", "item_type", "item_name", "line_seq"),
    partition_by="date",
)

FCT_EMAIL_CAMPAIGNS = CuratedTable(
    name="fct_email_campaigns",
    grain="platform × campaign",
    description=(
        "Newsletter campaigns and how they did: sends, opens, clicks, rates. Rates are fractions "
        "0..1 (MailChimp's report export writes percentages; they are divided by 100). The newest "
        "report of a campaign wins, so a report pulled again later updates its opens and clicks."
    ),
    columns=(
        Column("platform", pa.string(), "`mailchimp`"),
        Column("campaign_id", pa.string(), "the platform's id of the campaign (MailChimp's Unique Id)"),
        Column("title", pa.string(), "campaign title"),
        Column("subject", pa.string(), "subject line"),
        Column("audience", pa.string(), "audience (list) it was sent to"),
        Column("campaign_type", pa.string(), "`regular`, `automation`, ... when given"),
        Column("sent_at", pa.timestamp("us", tz="UTC"), "when it was sent"),
        Column("emails_sent", pa.int64(), "recipients"),
        Column("delivered", pa.int64(), "successful deliveries, when given"),
        Column("bounces", pa.int64(), "hard + soft bounces, when given"),
        Column("opens", pa.int64(), "total opens, when given"),
        Column("unique_opens", pa.int64(), "recipients who opened"),
        Column("open_rate", pa.float64(), "unique opens ÷ deliveries, 0..1, as the platform reports it"),
        Column("clicks", pa.int64(), "total clicks"),
        Column("unique_clicks", pa.int64(), "recipients who clicked, when given"),
        Column("click_rate", pa.float64(), "unique clicks ÷ deliveries, 0..1, as the platform reports it"),
        Column("unsubscribes", pa.int64(), "unsubscribes, when given"),
        Column("abuse_reports", pa.int64(), "spam complaints, when given"),
        *_lineage(),
    ),
    key=("platform", "source", "campaign_id"),
)

TABLES: dict[str, CuratedTable] = {t.name: t for t in (
    FCT_STREAMS_DAILY, FCT_STREAMS_TOTALS, FCT_AUDIENCE_DAILY, FCT_ROYALTIES, FCT_SALES, FCT_SOCIAL_DAILY,
    FCT_SOCIAL_POSTS, FCT_SOCIAL_TERRITORIES, FCT_AD_PERFORMANCE, DIM_AD_CAMPAIGN,
    FCT_LINK_CLICKS_DAILY, FCT_LINK_BREAKDOWN, FCT_EMAIL_CAMPAIGNS,
)}

# --- analytics tables: computed from the curated model (assets/analytics), not from staging ---------


def _created() -> tuple[Column, ...]:
    return (Column("created_at", pa.timestamp("us", tz="UTC"), "when the analytics run made the row"),)


VIRAL_MOMENTS = CuratedTable(
    name="viral_moments",
    grain="series × moment",
    description=(
        "Stretches of days when a daily series (streams, listeners, views, followers gained, link "
        "clicks) broke far out of its recent normal: robust z-score, ratio to the 28-day baseline "
        "and absolute volume all past their thresholds. A moment ends when the series comes back "
        "down or settles at a new level (assets/analytics/viral.py)."
    ),
    columns=(
        Column("series_id", pa.string(), "`<platform>/<artist or account>/<metric>`"),
        Column("artist", pa.string(), "canonical artist (dim_artist); null = the whole account"),
        Column("platform", pa.string(), "platform of the series"),
        Column("metric", pa.string(), "`streams`, `listeners`, `views`, `followers`, `clicks`"),
        Column("start_date", pa.date32(), "first flagged day"),
        Column("peak_date", pa.date32(), "day of the highest value"),
        Column("end_date", pa.date32(), "spike: last day still at or above 1.2 × the baseline; breakout: the day "
                                         "the new level was established (two weeks within 25 %)"),
        Column("kind", pa.string(), "`spike` (came back down), `breakout` (settled at a new level), `surge` "
                                    "(still climbing when the data stops)"),
        Column("ongoing", pa.bool_(), "the data stops while the moment runs (its kind may still change)"),
        Column("baseline", pa.float64(), "usual level of a day before the moment (weekday-neutral median)"),
        Column("peak_value", pa.float64(), "the peak day's value"),
        Column("lift", pa.float64(), "peak against the usual level of its weekday"),
        Column("score", pa.float64(), "min(z at the peak, 20) × log2(lift)"),
        Column("cross_platform_confirmed", pa.bool_(), "another platform of the same artist flagged within ±3 days of the start"),
        *_created(),
    ),
    key=("series_id", "start_date"),
)

ANOMALIES = CuratedTable(
    name="anomalies",
    grain="series × anomaly",
    description=(
        "Sudden drops (a takedown, a lost playlist) and data problems (a source all zeros, missing "
        "days, a follower count going backwards), with a sentence a person can act on."
    ),
    columns=(
        Column("series_id", pa.string(), "`<platform>/<artist or account>/<metric>`"),
        Column("artist", pa.string(), "canonical artist; null = the whole account"),
        Column("platform", pa.string(), "platform of the series"),
        Column("metric", pa.string(), "metric of the series"),
        Column("kind", pa.string(), "`drop`, `all_zero`, `missing_days`, `counter_decrease`"),
        Column("start_date", pa.date32(), "first day of the anomaly"),
        Column("end_date", pa.date32(), "last day of the anomaly"),
        Column("value", pa.float64(), "the observed value (lowest day, days missing, count after)"),
        Column("expected", pa.float64(), "what was expected (the usual level, the count before)"),
        Column("severity", pa.string(), "`info`, `warning`, `critical`"),
        Column("detail", pa.string(), "what happened, in a sentence"),
        *_created(),
    ),
    key=("series_id", "kind", "start_date"),
)

FORECAST_BACKTEST = CuratedTable(
    name="forecast_backtest",
    grain="series × model × horizon",
    description=(
        "Rolling-origin backtests of every model on every series: MASE (scaled by the in-sample "
        "seasonal-naive error) and sMAPE over `origins` forecast origins, and the coverage and "
        "interval score of the split-conformal calibrated 80 % / 95 % intervals. The champion per "
        "series and horizon is the lowest MASE among the models whose intervals held their level "
        "(none: the lowest interval score; ties: the simpler model)."
    ),
    columns=(
        Column("series_id", pa.string(), "the series (`revenue/<artist or account>/earnings_usd` for monthly revenue)"),
        Column("model", pa.string(), "`naive`, `seasonal_naive`, `ets`, `sarima`, `prophet`"),
        Column("horizon", pa.int64(), "steps ahead (days; months for revenue)"),
        Column("mase", pa.float64(), "mean absolute scaled error (< 1: better than the in-sample seasonal naive)"),
        Column("smape", pa.float64(), "symmetric mean absolute percentage error, percent"),
        Column("origins", pa.int64(), "how many forecast origins the scores average"),
        Column("coverage_80", pa.float64(), "share of hold-out points inside the calibrated 80 % interval "
                                            "(factors from the other origins; null with one origin)"),
        Column("coverage_95", pa.float64(), "the same for the 95 % interval"),
        Column("interval_score", pa.float64(), "interval (Winkler) score of the calibrated 95 % interval, scaled "
                                               "like MASE (lower is better: narrow and rarely missed)"),
        Column("interval_scale_80", pa.float64(), "conformal factor the model's own 80 % interval is stretched by "
                                                  "for the steps up to this horizon (1: as the model said)"),
        Column("interval_scale_95", pa.float64(), "the same for the 95 % interval"),
        Column("champion", pa.bool_(), "the published model at this horizon: lowest MASE among the models "
                                       "whose calibrated intervals held (80 %: 70-90 %, 95 %: ≥ 85 %)"),
        Column("history_days", pa.int64(), "days from the series' first to last observation"),
        *_created(),
    ),
    key=("series_id", "model", "horizon"),
)

FORECASTS = CuratedTable(
    name="forecasts",
    grain="series × day ahead",
    description="The champion model's forecast per series, with 80 % and 95 % prediction intervals.",
    columns=(
        Column("series_id", pa.string(), "the series"),
        Column("model", pa.string(), "the champion model that made the forecast"),
        Column("ds", pa.date32(), "day (or month start) forecast"),
        Column("yhat", pa.float64(), "forecast"),
        Column("yhat_lower", pa.float64(), "lower bound of the 80 % interval"),
        Column("yhat_upper", pa.float64(), "upper bound of the 80 % interval"),
        Column("yhat_lower_95", pa.float64(), "lower bound of the 95 % interval"),
        Column("yhat_upper_95", pa.float64(), "upper bound of the 95 % interval"),
        *_created(),
    ),
    key=("series_id", "ds"),
)

AD_ATTRIBUTION = CuratedTable(
    name="ad_attribution",
    grain="ad campaign × series",
    description=(
        "What each ad campaign's window did to streams and followers: the actual total over the "
        "window against a counterfactual forecast fitted only on the days before it (the lift), "
        "and what one incremental stream or follower cost (assets/analytics/attribution.py). A "
        "campaign naming an artist is measured on that artist's series, else on the account's "
        "streams and every followers series. Overlapping campaigns share one lift."
    ),
    columns=(
        Column("ad_platform", pa.string(), "where the ads ran (`meta`, ...)"),
        Column("campaign_id", pa.string(), "campaign id (fct_ad_performance)"),
        Column("campaign_name", pa.string(), "campaign name"),
        Column("window_start", pa.date32(), "first day with delivery"),
        Column("window_end", pa.date32(), "last day with delivery (a lifetime row of a paused campaign: the day it was paused)"),
        Column("spend_usd", pa.float64(), "spend over the window, USD (null when the account currency is not USD)"),
        Column("series_id", pa.string(), "the series measured (`spotify/ZONE A0/streams`, ...)"),
        Column("artist", pa.string(), "canonical artist of the series; null = the whole account"),
        Column("platform", pa.string(), "platform of the series"),
        Column("metric", pa.string(), "`streams` or `followers` (followers: the gain over the window)"),
        Column("sources", pa.string(), "account streams: the distributors counted (those reporting from the start of the pre-period through the window); null for other series"),
        Column("pre_days", pa.int64(), "days before the window the counterfactual was fitted on"),
        Column("measured_days", pa.int64(), "days of the window measured (clipped to the series' last day)"),
        Column("model", pa.string(), "model of the counterfactual (`seasonal_naive`, `ets`, ...)"),
        Column("actual", pa.float64(), "total over the window (followers: gained over the window)"),
        Column("expected", pa.float64(), "counterfactual total without the campaign"),
        Column("expected_lower", pa.float64(), "lower bound of the counterfactual's 80 % interval"),
        Column("expected_upper", pa.float64(), "upper bound of the counterfactual's 80 % interval"),
        Column("lift", pa.float64(), "actual − expected"),
        Column("lift_pct", pa.float64(), "lift as a percentage of expected"),
        Column("significant", pa.bool_(), "actual outside the counterfactual's 80 % interval"),
        Column("cost_per_incremental", pa.float64(), "spend_usd / lift, USD per incremental stream or follower; null when the lift is not positive or spend is unknown"),
        Column("interval_scale", pa.float64(), "how much the simulated interval was widened after checking the model on earlier windows of the series (1 = not widened)"),
        Column("concurrent_campaigns", pa.int64(), "other campaigns measured on the same series with overlapping windows (their effect is in the lift too)"),
        *_created(),
    ),
    key=("ad_platform", "campaign_id", "series_id"),
)

LAGGED_CORRELATION = CuratedTable(
    name="lagged_correlation",
    grain="artist × leading series × following series",
    description=(
        "Does one platform lead another? The correlation of day-over-day changes of a leading "
        "series (TikTok views) with a following one (Spotify streams) shifted by 0..N days; the "
        "lag with the highest correlation is the best lag. Changes are of log1p, net of each "
        "weekday's mean change (levels of two growing series always correlate)."
    ),
    columns=(
        Column("artist", pa.string(), "canonical artist; null = the whole account"),
        Column("leader_series_id", pa.string(), "the leading series (`tiktok/ZONE A0/views`; `tiktok/account/views` sums the accounts)"),
        Column("follower_series_id", pa.string(), "the following series (`spotify/ZONE A0/streams`; the account's when the artist has none)"),
        Column("best_lag_days", pa.int64(), "days the follower trails the leader at the highest correlation"),
        Column("correlation", pa.float64(), "Pearson correlation at the best lag"),
        Column("correlation_lag0", pa.float64(), "correlation on the same day"),
        Column("p_value", pa.float64(), "two-sided p-value at the best lag (not corrected for trying several lags)"),
        Column("overlap_days", pa.int64(), "days both series have, at the best lag"),
        Column("correlations", pa.string(), "JSON object lag → correlation for every lag tried"),
        *_created(),
    ),
    key=("leader_series_id", "follower_series_id"),
)

REVENUE_PER_STREAM = CuratedTable(
    name="revenue_per_stream",
    grain="sale month × store",
    description=(
        "What a stream paid, per store and sale month, from royalty statement lines (all "
        "distributors). On download stores (iTunes) the rate is per download."
    ),
    columns=(
        Column("sale_month", pa.date32(), "month of the sales (first day)"),
        Column("store", pa.string(), "store as the distributor names it"),
        Column("platform", pa.string(), "conformed platform"),
        Column("quantity", pa.int64(), "units on the month's lines"),
        Column("earnings_usd", pa.float64(), "earnings, USD"),
        Column("revenue_per_stream", pa.float64(), "earnings_usd / quantity (null when quantity is 0)"),
        Column("lines", pa.int64(), "statement lines behind the figures"),
        *_created(),
    ),
    key=("sale_month", "store"),
)

PAYMENT_DELAY = CuratedTable(
    name="payment_delay",
    grain="source × delay in months",
    description="How long after a sale month the money is reported: reporting date − sale month, in whole months.",
    columns=(
        Column("source", pa.string(), "distributor"),
        Column("delay_months", pa.int64(), "months between the sale month and the reporting date's month"),
        Column("lines", pa.int64(), "statement lines with that delay"),
        Column("earnings_usd", pa.float64(), "earnings on those lines, USD"),
        Column("share", pa.float64(), "share of the source's earnings, 0..1"),
        Column("cumulative_share", pa.float64(), "share reported within this many months, 0..1"),
        *_created(),
    ),
    key=("source", "delay_months"),
)

REVENUE_EXPECTED = CuratedTable(
    name="revenue_expected",
    grain="sale month × platform",
    description=(
        "Expected revenue (the month's streams × the platform's revenue per stream over the "
        "previous reported months) against the revenue actually reported for the month, for the "
        "whole account (assets/analytics/revenue.py)."
    ),
    columns=(
        Column("sale_month", pa.date32(), "month (first day)"),
        Column("platform", pa.string(), "conformed platform"),
        Column("streams", pa.int64(), "streams in the month of the catalogues whose royalty statements are loaded (distributors with royalty lines; else v_streams_account_daily)"),
        Column("stream_days", pa.int64(), "days of the month with streams"),
        Column("rate_usd", pa.float64(), "revenue per stream used for the expectation (streaming lines of the previous reported months)"),
        Column("rate_months", pa.int64(), "earlier sale months the rate is from; 0 = the platform's all-time rate (no earlier month)"),
        Column("expected_usd", pa.float64(), "streams × rate_usd; null unless every day of the month has streams"),
        Column("actual_usd", pa.float64(), "earnings reported so far for the month"),
        Column("difference_usd", pa.float64(), "actual − expected"),
        Column("status", pa.string(), "`reported`, `partial` (within the usual payment delay), `missing`"),
        *_created(),
    ),
    key=("sale_month", "platform"),
)

MARKET_DEMAND = CuratedTable(
    name="market_demand",
    grain="artist × country × city",
    description=(
        "Where the audience is, for booking: per country (and city where a source gives it) the "
        "share of the artist's listening, its 28-day momentum, a demand score 0–100, an estimated "
        "ticket demand and a recommendation with its reasons (assets/analytics/markets.py). Signals: "
        "royalties by country of sale, country stream charts (TooLost, DistroKid's Apple Music page), "
        "TikTok/YouTube follower territories, Linktree locations. `OU` (DistroKid's \"outside the US\"), "
        "`ZZ` and TikTok's \"Others\" are never markets; the rows with `city` null add up to a share "
        "of 1 minus what no source could place. Every volume is per 28 days."
    ),
    columns=(
        Column("artist", pa.string(), "canonical artist; null = the whole account (every artist, and the account-wide sources)"),
        Column("country", pa.string(), "ISO 3166 alpha-2 code"),
        Column("country_name", pa.string(), "country name"),
        Column("city", pa.string(), "city, when a source gives it (Linktree); null = the whole country"),
        Column("streams", pa.float64(), "streams attributed to the market per 28 days: share × the artist's streams per 28 days (the fullest of daily streams, royalty pace, chart pace)"),
        Column("earnings_usd", pa.float64(), "royalty earnings from the market per 28 days, at the pace of the last complete sale months, USD; null without royalties"),
        Column("share", pa.float64(), "the market's share of the artist's listening, 0..1 (signals weighted: royalties 0.5, charts 0.2, social 0.2, links 0.1, renormalised over those the artist has)"),
        Column("momentum_28d", pa.float64(), "growth against the period before as a ratio − 1 (royalties: the last complete sale month against the one before; snapshots: successive exports); null when unknown"),
        Column("demand_score", pa.float64(), "0–100: volume (log scale), share, momentum and agreeing signals"),
        Column("est_ticket_demand", pa.int64(), "estimated tickets: streams ÷ 3 streams per monthly listener × 1.5 % attendance (assumptions, configurable); null without a stream count"),
        Column("recommendation", pa.string(), "`BOOK`, `CONSIDER` or `MONITOR`"),
        Column("reasons", pa.string(), "why, in sentences: thresholds passed and failed, each signal's figure, the momentum, the ticket arithmetic, what is missing"),
        Column("signals", pa.string(), "signals with data for the market, comma separated (`royalties`, `toolost`, `distrokid`, `tiktok`, `linktree`, ...)"),
        Column("as_of", pa.date32(), "newest day of the market data behind the row (royalties: the end of the newest complete sale month)"),
        *_created(),
    ),
    key=("artist", "country", "city"),
)

ALERTS = CuratedTable(
    name="alerts",
    grain="alert event",
    description=(
        "Every event soundlake alerted on (new viral moments, anomalies, failed runs, stale "
        "sources, expired sessions), once: the log that keeps the same event from alerting twice."
    ),
    columns=(
        Column("alert_id", pa.string(), "stable id of the event (kind + what + when); the deduplication key"),
        Column("kind", pa.string(), "`viral_moment`, `anomaly`, `run_failure`, `stale_source`, `session_expired`"),
        Column("severity", pa.string(), "`info`, `warning`, `critical`"),
        Column("subject", pa.string(), "one line"),
        Column("message", pa.string(), "what happened and what to do"),
        Column("first_seen", pa.timestamp("us", tz="UTC"), "when soundlake first saw the event"),
        Column("sent_at", pa.timestamp("us", tz="UTC"), "when every channel accepted it; null while a channel keeps failing (it is retried)"),
        Column("channels", pa.string(), "channels that accepted it (`webhook`, `email`), comma separated"),
        *_created(),
    ),
    key=("alert_id",),
)

ANALYTICS_TABLES: dict[str, CuratedTable] = {t.name: t for t in (
    VIRAL_MOMENTS, ANOMALIES, FORECAST_BACKTEST, FORECASTS, AD_ATTRIBUTION, LAGGED_CORRELATION,
    REVENUE_PER_STREAM, PAYMENT_DELAY, REVENUE_EXPECTED, MARKET_DEMAND, ALERTS,
)}

# Stores as distributors name them -> conformed platform. Unknown stores map to `unknown`
# (reported by `soundlake status`), never silently to another platform.
STORE_PLATFORMS: dict[str, str] = {
    "spotify": "spotify",
    "apple music": "apple_music",
    "itunes songs": "itunes",
    "itunes albums": "itunes",
    "itunes match": "itunes",
    "youtube (ads)": "youtube",
    "youtube (red)": "youtube",
    "youtube (audio)": "youtube",
    "youtube music": "youtube",
    "youtube content id": "youtube",
    "amazon unlimited (streaming)": "amazon_music",
    "amazon prime (streaming)": "amazon_music",
    "amazon music": "amazon_music",
    "amazon (downloads)": "amazon_music",
    "deezer": "deezer",
    "tidal": "tidal",
    "tiktok": "tiktok",
    "facebook": "meta",
    "instagram": "meta",
    "pandora": "pandora",
    "netease": "netease",
    "flo": "flo",
    "soundcloud": "soundcloud",
    "anghami": "anghami",
    "boomplay": "boomplay",
    "audiomack": "audiomack",
    "napster": "napster",
    "snapchat": "snapchat",
    "tencent": "tencent",
    "joox": "joox",
    "kkbox": "kkbox",
    "saavn": "jiosaavn",
    "jiosaavn": "jiosaavn",
    "gaana": "gaana",
}


def store_platform(store: str | None) -> str:
    if store is None:
        return "unknown"
    return STORE_PLATFORMS.get(store.strip().lower(), "unknown")
