-- An OpenAI Chat Completions request: to the router (any model), or to the
-- mock's OpenAI endpoint directly. Arguments: KEY MODEL STREAM (see common.lua).
body_template = [[{"model":"{{model}}","stream":{{stream}},"stream_options":{"include_usage":true},"temperature":0.2,"max_tokens":256,"user":"bench-user-17","messages":[{"role":"system","content":"You are a concise assistant for a database engineering team. Answer in plain prose, at most three sentences, and do not use lists."},{"role":"user","content":"We keep seeing the phrase write-ahead log in PostgreSQL and SQLite docs. What is a write-ahead log, and why do databases use one instead of writing pages in place?"}]}]]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
