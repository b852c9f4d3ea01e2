-- An OpenAI embeddings request (POST /v1/embeddings), one input of about 36
-- tokens: to the router, a peer gateway, or the mock. Arguments: KEY MODEL
-- STREAM [HEADER...] (see common.lua; STREAM is not used).
body_template = [[{"model":"{{model}}","input":"A write-ahead log records every change before it reaches the data files, so a crash loses nothing that was committed.","encoding_format":"float","user":"bench-user-17"}]]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")
