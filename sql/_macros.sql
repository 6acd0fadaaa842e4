-- Macros the dimension views and the KPIs share. This file runs first (sorted by name).

-- artist_key: one key for every spelling of an artist or account name: lower case, accents
-- stripped, everything but letters and digits removed. 'ZONE A0', 'zone.a0', 'Zone A0' → 'zonea0'.
CREATE OR REPLACE MACRO artist_key(name) AS
    nullif(regexp_replace(lower(strip_accents(trim(name))), '[^a-z0-9]', '', 'g'), '');

-- title_key: a track title without what differs between sources for the same recording:
-- case, accents, featured artists ('(feat. X)', '[ft. X]', 'feat. X' at the end), remaster
-- notes ('(Remastered 2011)', ' - Remaster'), punctuation and repeated spaces. Versions that are
-- other recordings ('(Live)', ' - Radio Edit', remixes) keep their words.
CREATE OR REPLACE MACRO title_key(title) AS
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        lower(strip_accents(trim(title))),
        '[(\[][^)\]]*\b(feat|ft|featuring|remaster|remastered)\b[^)\]]*[)\]]', ' ', 'g'),
        '\s-\s[^-]*\bremaster(ed)?\b.*$', ' ', 'g'),
        '\s(feat|ft|featuring)\b\.?\s.*$', ' ', 'g'),
        '[^a-z0-9]+', ' ', 'g')), '');
