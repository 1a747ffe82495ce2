-- A login storm: correct passwords for rotating employees, so each request costs a hash.
local count = tonumber(os.getenv("BENCH_ACCOUNTS"))
local password = os.getenv("BENCH_PASSWORD")
local counter = 0

request = function()
  counter = counter + 1
  local n = (counter * 7919) % count + 1
  local body = string.format('{"email": "employee%d@bench.example.com", "password": "%s"}', n, password)
  return wrk.format("POST", "/api/auth/login", { ["Content-Type"] = "application/json" }, body)
end
