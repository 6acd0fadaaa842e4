-- kpi: catalogue_concentration_top_track_share
-- topic: streams
-- unit: %
-- period: all time
-- definition: How much of your streaming rests on one song: the all-time streams of the most
-- streamed track as a percentage of the streams of all tracks, from the same per-track numbers
-- as top_tracks_streams (daily stats when they cover the catalogue, else the royalty
-- statements; `period` says which). 100 % = one track does everything; the more evenly your
-- tracks are streamed, the closer to 100 % ÷ the number of tracks.
SELECT max(streams) / sum(streams) * 100 AS value, 'all time (' || any_value(basis) || ')' AS period,
       max(as_of) AS as_of, scope AS artist, NULL::VARCHAR AS breakdown
FROM kpi_tracks
WHERE streams > 0
GROUP BY scope
