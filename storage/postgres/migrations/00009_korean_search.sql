-- +goose Up
-- Korean search (internal/community/korean.go says how it matches). A
-- text's Hangul runs become their syllable bigrams in order, so that
-- adjacent bigrams (a tsquery phrase, 통기 <-> 기타) find a word anywhere,
-- inside compounds and before particles; a run of one syllable is kept
-- whole; each run's first bigram is also marked with a leading "_" (the
-- ranking prefers words that start a run: 기타 연주 before 통기타). Other
-- scripts stay with the English and 'simple' vectors of 00006.

-- +goose StatementBegin
CREATE FUNCTION ucc_hangul_index(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH runs AS (
        SELECT m[1] AS run, n,
               coalesce(sum(char_length(m[1]) + 1) OVER (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS base
        FROM regexp_matches(doc, '[가-힣]+', 'g') WITH ORDINALITY AS r(m, n)
    ), grams AS (
        SELECT substr(run, i, least(2, char_length(run))) AS gram, base + i AS pos, i = 1 AS first
        FROM runs, generate_series(1, greatest(char_length(run) - 1, 1)) AS i
    )
    SELECT coalesce(string_agg(quote_literal(gram) || ':' || least(pos, 16383)
               || CASE WHEN first THEN ' ' || quote_literal('_' || gram) || ':' || least(pos, 16383) ELSE '' END, ' ')::tsvector,
           ''::tsvector)
    FROM grams
$$;
-- +goose StatementEnd

ALTER TABLE videos ADD COLUMN search_ko tsvector GENERATED ALWAYS AS (
    setweight(ucc_hangul_index(title), 'A') || setweight(ucc_hangul_index(description), 'C')
) STORED;
CREATE INDEX videos_search_ko_idx ON videos USING gin (search_ko);
ALTER TABLE channels ADD COLUMN search_ko tsvector GENERATED ALWAYS AS (ucc_hangul_index(name)) STORED;
CREATE INDEX channels_search_ko_idx ON channels USING gin (search_ko);

-- +goose Down
ALTER TABLE channels DROP COLUMN search_ko;
ALTER TABLE videos DROP COLUMN search_ko;
DROP FUNCTION ucc_hangul_index(text);
