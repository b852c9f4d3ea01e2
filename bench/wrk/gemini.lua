-- A Gemini generateContent request, as the router sends it upstream: for the
-- direct-to-mock runs (the model and the stream are in the URL; the
-- arguments are still KEY MODEL STREAM, see common.lua).
body_template = [[{"contents":[{"role":"user","parts":[{"text":"We keep seeing the phrase write-ahead log in PostgreSQL and SQLite docs. What is a write-ahead log, and why do databases use one instead of writing pages in place?"}]}],"systemInstruction":{"parts":[{"text":"You are a concise assistant for a database engineering team. Answer in plain prose, at most three sentences, and do not use lists."}]},"generationConfig":{"temperature":0.2,"maxOutputTokens":256}}]]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
