-- An OpenAI Responses API request (POST /v1/responses): to the router or a
-- peer gateway. Arguments: KEY MODEL STREAM [HEADER...] (see common.lua).
body_template = [[{"model":"{{model}}","stream":{{stream}},"instructions":"You are a concise assistant for a database engineering team. Answer in plain prose, at most three sentences, and do not use lists.","input":[{"role":"user","content":"We keep seeing the phrase write-ahead log in PostgreSQL and SQLite docs. What is a write-ahead log, and why do databases use one instead of writing pages in place?"}],"temperature":0.2,"max_output_tokens":256,"user":"bench-user-17"}]]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
