-- wrk script for tests/bench/pos_sale: each wrk thread is one counter (run wrk with as many
-- threads as connections), signed in as its own cashier, ringing up one-line cash sales of a
-- product picked at random from the list, each with a fresh Idempotency-Key.
-- Arguments after "--": TAG COOKIE_FILE PRODUCT_IDS PRICE_FEN
--   TAG          makes the keys of this run unique (keys are TAG-counter-sequence)
--   COOKIE_FILE  one "yz_session=…" line per counter, in counter order
--   PRODUCT_IDS  comma-separated product ids (one id: every sale takes the hot product)
--   PRICE_FEN    the price of each of them (the cash tender pays it exactly)

local counters = 0

-- Runs in wrk's main Lua state, once per thread before it starts: number the counters.
function setup(thread)
  counters = counters + 1
  thread:set("counter", counters)
end

local tag, cookie, products, price
local sequence = 0

function init(args)
  tag = args[1]
  local line = 0
  for text in io.lines(args[2]) do
    line = line + 1
    if line == counter then cookie = text end
  end
  assert(cookie, "no session cookie for counter " .. counter)
  products = {}
  for id in string.gmatch(args[3], "%d+") do
    products[#products + 1] = tonumber(id)
  end
  price = tonumber(args[4])
  math.randomseed(counter * 7919 + #tag)
end

function request()
  sequence = sequence + 1
  local body = string.format(
    '{"lines":[{"product_id":%d,"quantity":1}],"tenders":[{"method":"cash","amount_fen":%d}]}',
    products[math.random(#products)], price)
  return wrk.format("POST", "/api/v1/pos/sales", {
    ["Cookie"] = cookie,
    ["X-Requested-With"] = "yizhan",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = tag .. "-" .. counter .. "-" .. sequence,
  }, body)
end
