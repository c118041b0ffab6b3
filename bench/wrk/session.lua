-- wrk script for bench/cmd/benchserver: every connection logs in once, then
-- sends the session cookie it was given on every request.
--
--   wrk -t2 -c32 -d10s --latency -s bench/wrk/session.lua http://127.0.0.1:PORT -- /read 16
--
-- Arguments after "--": the path to load (default /read) and the number of
-- connections per thread (-c divided by -t; default 1).
--
-- With /login every request is a login without a cookie, so each creates a
-- new session. For the other paths: wrk gives a script no connection
-- identity, but it asks for each connection's first request before any
-- response arrives, so the first N requests of a thread are the logins of
-- its N connections; afterwards each request carries one of the thread's N
-- session cookies in turn. Cookies re-issued by /write are not taken up: a
-- client keeps the cookie of its login (the server still pays for encoding
-- and sending the new one). A line starting with "BENCH" at
-- the end carries the figures run.sh reads.

local path = "/read"
local conns = 1
local logins = 0
local cookies = {}
local requests = {} -- the formatted request for each cookie, built once
local next_cookie = 0

function init(args)
   if args[1] ~= nil then path = args[1] end
   if args[2] ~= nil then conns = tonumber(args[2]) end
end

function request()
   if path == "/login" or logins < conns or #cookies == 0 then
      logins = logins + 1
      return wrk.format("GET", "/login")
   end
   next_cookie = next_cookie % #cookies + 1
   local req = requests[next_cookie]
   if req == nil then
      -- Formatting costs wrk as much per request as a small handler costs the
      -- server, and it would be charged to the contender with the longest
      -- cookie; each connection's request is the same bytes every time.
      req = wrk.format("GET", path, { ["Cookie"] = cookies[next_cookie] })
      requests[next_cookie] = req
   end
   return req
end

function response(status, headers, body)
   if path ~= "/login" and headers["X-Bench-Login"] ~= nil then
      local sc = headers["Set-Cookie"]
      if sc ~= nil then
         cookies[#cookies + 1] = sc:match("^([^;]+)")
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d rps=%.2f p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout))
end
