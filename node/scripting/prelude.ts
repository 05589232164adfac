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
