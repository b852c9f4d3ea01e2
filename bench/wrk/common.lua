-- Shared by the request scripts: a prebuilt POST, a per-thread count of the
-- requests written to the server (checked against nginx's stub_status), and a done() that prints one machine-readable line:
--   BENCH {"requests":N,"sent":N,"p50_us":...,"p90_us":...,"p99_us":...,...}
-- Script arguments (after `--`): API key ("-" for none), model, stream (true|false),
-- then any extra headers, one argument each as "Name: value" (a peer gateway's
-- x-portkey-provider and x-portkey-custom-host).
-- The including script sets `body_template` with {{model}} and {{stream}}.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local key = args[1] or "-"
   local model = args[2] or "bench-openai"
   local stream = args[3] or "false"
   local body = body_template:gsub("{{model}}", model):gsub("{{stream}}", stream)
   local headers = { ["Content-Type"] = "application/json" }
   if key ~= "-" then
      headers["Authorization"] = "Bearer " .. key
      headers["x-api-key"] = key
      headers["x-goog-api-key"] = key
   end
   for i = 4, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      if name then
         headers[name] = value
      end
   end
   prebuilt = wrk.format("POST", nil, headers, body)
   sent = 0
end

function request()
   sent = sent + 1
   return prebuilt
end

function done(summary, latency, requests)
   -- wrk calls request() once in the first thread before the run, to check
   -- the script (script_verify_request): that call sent nothing.
   local sent_total = -1
   for _, t in ipairs(threads) do
      sent_total = sent_total + (t:get("sent") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"sent":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"mean_us":%.1f,"max_us":%d,"min_us":%d}\n',
      summary.requests, sent_total, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.mean, latency.max, latency.min))
end
