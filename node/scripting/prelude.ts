// Lua run once when the VM starts: the Lua 5.1 names Redis scripts use on Lua 5.3 (unpack,
// loadstring, table.getn, math.pow), Redis's error handler and pcall, and Redis 7's locked globals (reading an unknown global or creating one fails).
export const PRELUDE = String.raw`
local dbg = debug
local rawpcall, type, tostring, error = pcall, type, tostring, error
local tpack, tunpack = table.pack, table.unpack

-- Redis's __redis__err__handler: every raised error becomes {err=…, source=…, line=…}.
__redis__err__handler = function(err)
  -- The frame that raised it, past JS functions ('J' in fengari, C in Redis) and this prelude's
  -- own functions (the globals' guards are C in Redis), a few levels at most.
  local i = dbg.getinfo(2, 'nSl')
  local level = 2
  while i and level < 6 and (i.what == 'C' or i.what == 'J' or i.source == '=prelude') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- A script runs as __redis__run(f) in a coroutine, so it can pause at the time limit (runner.ts).
local xpcall, handler = xpcall, __redis__err__handler
__redis__run = function(f) return xpcall(f, handler) end

-- Redis 7's pcall hands back the text of a table error, as older versions did with strings.
pcall = function(f, ...)
  local r = tpack(rawpcall(f, ...))
  if not r[1] and type(r[2]) == 'table' and type(r[2].err) == 'string' then return false, r[2].err end
  return tunpack(r, 1, r.n)
end

-- Functions (FUNCTION LOAD / FCALL, node/scripting/functions.ts). Library code and the functions it
-- registers see one shared environment, __redis__fenv (Redis runs them in a Lua state of their
-- own): while a library loads, only the load API (redis.register_function, log, versions: Redis's
-- LIBRARY_API); afterwards the globals scripts see, minus EVAL's KEYS and ARGV.
do
  local rawget, G = rawget, _G
  local hidden = {KEYS = true, ARGV = true}
  local loading = false
  local load_api = {}
  __redis__fenv = setmetatable({}, {
    __index = function(_, k)
      local v
      if loading then v = rawget(load_api, k) elseif not hidden[k] then v = rawget(G, k) end
      if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
      return v
    end,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
  })
  __redis__set_loading = function(on) loading = on end
  __redis__load_api = load_api
  __redis__run_fn = function(f, keys, args) return xpcall(f, handler, keys, args) end
  -- The load API's redis table: what is not in it fails like a missing global, as in Redis.
  __redis__missing_meta = {
    __index = function(_, k) error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end,
  }
end

unpack = table.unpack
loadstring = load
table.getn = function(t) return #t end
math.pow = math.pow or function(x, y) return x ^ y end

debug = nil
dofile = nil
loadfile = nil
print = nil

setmetatable(_G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
})
`;
