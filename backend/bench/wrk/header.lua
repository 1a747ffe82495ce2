-- One fixed header for every request: BENCH_HEADER_NAME / BENCH_HEADER_VALUE, BENCH_PATH.
local name = os.getenv("BENCH_HEADER_NAME")
local value = os.getenv("BENCH_HEADER_VALUE")
local path = os.getenv("BENCH_PATH")

request = function()
  return wrk.format("GET", path, { [name] = value })
end
