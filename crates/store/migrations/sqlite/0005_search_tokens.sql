-- PostgreSQL changed its search tokenisation in this migration; FTS5's unicode61 tokenizer
-- already splits on anything not a letter or digit, so SQLite needs no change.
SELECT 1;
