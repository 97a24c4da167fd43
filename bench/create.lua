-- Posts challenge creations (empty JSON body) with the API key given as the first argument.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  key = args[1]
  bad = 0
end

function request()
  return wrk.format("POST", "/api/v1/challenges",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, "{}")
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local bad_all = 0
  for _, t in ipairs(threads) do bad_all = bad_all + t:get("bad") end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, '
    .. '"errors": %d, "bad_status": %d, "wrapped": 0, "sent_max_thread": 0}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad_all))
end
