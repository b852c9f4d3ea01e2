-- An Anthropic Messages request: as the router sends it upstream (for the
-- direct-to-mock runs), and to the router's or a peer's /v1/messages.
-- Arguments: KEY MODEL STREAM [HEADER...] (see common.lua).
body_template = [[{"model":"{{model}}","stream":{{stream}},"max_tokens":256,"temperature":0.2,"system":"You are a concise assistant for a database engineering team. Answer in plain prose, at most three sentences, and do not use lists.","metadata":{"user_id":"bench-user-17"},"messages":[{"role":"user","content":[{"type":"text","text":"We keep seeing the phrase write-ahead log in PostgreSQL and SQLite docs. What is a write-ahead log, and why do databases use one instead of writing pages in place?"}]}]}]]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
