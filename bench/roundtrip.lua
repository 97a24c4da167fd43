-- Whole verifications, one after another on each connection (run with as many threads as
-- connections, so each Lua state drives one connection): create a challenge for a phone,
-- send its code from that phone through the smsmode webhook (path-token authentication),
-- read its status. args: API_KEY PATH_TOKEN NUMBER_DIGITS RUN (a word unique to this run,
-- so message ids never repeat across runs: a repeated one would be a redelivery)
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  key, path_token, number, run = args[1], args[2], args[3], args[4]
  step, n, trips, bad, last_bad = "create", 0, 0, 0, ""
  phone, code, token = nil, nil, nil
end

function request()
  if step == "create" then
    n = n + 1
    phone = string.format("1415555%04d", (tid * 97 + n) % 10000)
    return wrk.format("POST", "/api/v1/challenges",
      {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"},
      '{"phone": "+' .. phone .. '"}')
  elseif step == "inbound" then
    return wrk.format("GET", string.format(
      "/webhooks/smsmode/%s?numero=%s&message=%s&smsID=%s-%d-%d&destinataire=%s",
      path_token, phone, code, run, tid, n, number))
  end
  return wrk.format("GET", "/api/v1/status/" .. token)
end

function failed(status)
  bad = bad + 1
  last_bad = step .. " " .. status
end

function response(status, headers, body)
  if step == "create" then
    code = body:match('"code"%s*:%s*"([^"]+)"')
    token = body:match('"token"%s*:%s*"([^"]+)"')
    if status ~= 201 or not code or not token then
      failed(status)
      return
    end
    step = "inbound"
  elseif step == "inbound" then
    if status ~= 200 then failed(status) end
    step = "status"
  else
    if status == 200 and body:match('"status"%s*:%s*"verified"') then
      trips = trips + 1
    else
      failed(status)
    end
    step = "create"
  end
end

function done(summary, latency, requests)
  local trips_all, bad_all, seen = 0, 0, ""
  for _, t in ipairs(threads) do
    trips_all = trips_all + t:get("trips")
    bad_all = bad_all + t:get("bad")
    if t:get("last_bad") ~= "" then seen = t:get("last_bad") end
  end
  io.write(string.format(
    'RESULT {"trips": %d, "requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, '
    .. '"errors": %d, "bad": %d, "last_bad": "%s"}\n',
    trips_all, summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    bad_all, seen))
end
