-- Tokenise search text the way search terms are split (on anything not a letter or digit):
-- PostgreSQL's parser otherwise reads "esx-03" as "esx" and the signed integer "-03".
DROP INDEX cis_search;
ALTER TABLE cis DROP COLUMN search;
ALTER TABLE cis ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(name || ' ' || attributes, '[^[:alnum:]]+', ' ', 'g'))) STORED;
CREATE INDEX cis_search ON cis USING gin (search);
