-- Posts pre-signed simulator webhooks, each body once: args are FILE OFFSET THREADS.
-- FILE holds "signature<TAB>body" lines; thread t sends lines OFFSET+t, OFFSET+t+THREADS, ...
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  sigs, bodies = {}, {}
  for line in io.lines(args[1]) do
    local sig, body = line:match("^(%S+)\t(.*)$")
    sigs[#sigs + 1] = sig
    bodies[#bodies + 1] = body
  end
  index = tonumber(args[2]) + tid + 1
  step = tonumber(args[3])
  sent, wrapped, bad = 0, 0, 0
end

function request()
  local i = index
  index = index + step
  if i > #bodies then
    wrapped = wrapped + 1
    i = ((i - 1) % #bodies) + 1
  end
  sent = sent + 1
  return wrk.format("POST", "/webhooks/simulator",
    {["Content-Type"] = "application/json", ["X-Simulator-Signature"] = sigs[i]}, bodies[i])
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local sent_max, wrapped_all, bad_all = 0, 0, 0
  for _, t in ipairs(threads) do
    sent_max = math.max(sent_max, t:get("sent"))
    wrapped_all = wrapped_all + t:get("wrapped")
    bad_all = bad_all + t:get("bad")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, '
    .. '"errors": %d, "bad_status": %d, "wrapped": %d, "sent_max_thread": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad_all, wrapped_all, sent_max))
end
