-- input: kpi_artists
-- definition: Every spelling of an artist or social account name (`dim_artist_alias.alias`)
-- with the canonical artist name it stands for. Taken once per build so the other inputs map
-- names through a small table instead of re-reading every fact table behind dim_artist_alias.
SELECT alias, artist
FROM dim_artist_alias
