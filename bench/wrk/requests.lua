-- wrk script for every API scenario: replays a request file the runner wrote, counts
-- non-2xx answers and prints one JSON line (BENCH_JSON ...) with throughput and latency.
--
-- usage: wrk -t2 -c32 -d20s --latency -s bench/wrk/requests.lua http://127.0.0.1:PORT \
--          -- <token> <requests file>
-- The request file has one request a line: METHOD <tab> PATH <tab> BODY (BODY may be empty).
-- Each thread starts at its own offset and then goes through the file in order, so the
-- runner decides the mix (random products, +1/-1 alternating so stock stays put).

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local function read_requests(path, token)
   local requests = {}
   for line in io.lines(path) do
      local method, target, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
      if method then
         local headers = { ["Authorization"] = "Bearer " .. token }
         if body == "" then
            body = nil
         else
            headers["Content-Type"] = "application/json"
         end
         -- Built once here, so the load generator spends nothing per request.
         table.insert(requests, wrk.format(method, target, headers, body))
      end
   end
   assert(#requests > 0, "no requests in " .. path)
   return requests
end

function init(args)
   requests = read_requests(args[2], args[1])
   position = (id * 7919) % #requests
   non2xx = 0
   first_bad = ""
end

function request()
   position = position % #requests + 1
   return requests[position]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad == "" then
         first_bad = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function json_string(value)
   local escaped = value:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end)
   return '"' .. escaped .. '"'
end

function done(summary, latency, requests_)
   local bad, sample = 0, ""
   for _, thread in ipairs(threads) do
      bad = bad + (thread:get("non2xx") or 0)
      local first = thread:get("first_bad")
      if sample == "" and first and first ~= "" then
         sample = first
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, '
         .. '"timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
         .. '"mean_us": %.1f, "first_non2xx": %s}\n',
      summary.requests, summary.duration, bad,
      errors.connect + errors.read + errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, json_string(sample)))
end
