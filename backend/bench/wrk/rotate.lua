-- Rotate over many employees' tokens: each request carries the next one.
-- BENCH_TOKENS: file with one token per line; BENCH_METHOD, BENCH_PATH, BENCH_BODY.
-- "{n}" in the body becomes the request's number, so each filing is a ticket of its own
-- (an employee filing one ticket over and over would be a run of possible duplicates).
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/api/tickets?limit=50"
local body = os.getenv("BENCH_BODY")
local counter = 0

function setup(thread)
  thread:set("offset", math.random(#tokens))
end

request = function()
  counter = counter + 1
  local token = tokens[(counter + (offset or 0)) % #tokens + 1]
  local headers = { ["Authorization"] = "Bearer " .. token }
  local sent = body
  if body then
    headers["Content-Type"] = "application/json"
    sent = body:gsub("{n}", tostring(counter))
  end
  return wrk.format(method, path, headers, sent)
end
