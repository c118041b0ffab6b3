package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts below are the only code that writes a session. Each one is
// a single atomic step on the server; they are run with EVALSHA and fall back
// to EVAL when the server's script cache is empty (after a restart or a
// SCRIPT FLUSH). Every key a script touches is passed in KEYS, so the scripts
// also run on Redis Cluster, where KEYS[2] (a user index, in another slot) is
// never passed: the client then updates the index in a second command.
//
// Conventions shared by the scripts:
//   - a session hash keeps user values under "v:<key>" and its metadata
//     under "m:exp" (expiry, Unix milliseconds) and "m:uid" (owner);
//   - a record is live when m:exp parses and is later than ARGV "now" (the
//     client's clock, the same one Load compares with);
//   - times are passed as decimal strings of Unix milliseconds and handed to
//     Redis unchanged, never formatted by Lua.

// luaIndexAdd adds a member to a user index (a sorted set scored by an expiry
// horizon), drops members whose horizon has passed, and keeps the index key
// alive at least until the new horizon.
const luaIndexAdd = `
local function index_add(ix, member, horizon, now)
  redis.call('ZADD', ix, 'GT', horizon, member)
  redis.call('ZREMRANGEBYSCORE', ix, '-inf', '(' .. now)
  if redis.call('PTTL', ix) == -1 then
    redis.call('PEXPIREAT', ix, horizon)
  else
    redis.call('PEXPIREAT', ix, horizon, 'GT')
  end
end
`

// luaChunked runs cmd on key with the arguments ARGV[from..to], at most 1000
// at a time (Lua's unpack has a stack limit).
const luaChunked = `
local function chunked(cmd, key, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 999, to)
    redis.call(cmd, key, unpack(ARGV, i, j))
    i = j + 1
  end
end
`

// mergeScript applies a seshat.Change.
//
//	KEYS[1]  session hash
//	KEYS[2]  the new owner's index (optional: only when the owner is set to a
//	         non-empty user and the client is not a cluster client)
//	ARGV[1]  new expiry (ms)         ARGV[2] now (ms)
//	ARGV[3]  "1" when Change.Create  ARGV[4] "1" when Change.SetUser
//	ARGV[5]  new owner               ARGV[6] index member (the store key)
//	ARGV[7]  index horizon (ms)      ARGV[8] index granularity (ms)
//	ARGV[9]  n, the number of fields to set
//	ARGV[10 .. 9+2n]  field, value pairs to set; the rest: fields to delete
//
// It returns {0} when the record is gone and Create is false (nothing is
// written), else {1, refresh, drop}: refresh is the owner whose index must
// be extended to the new horizon by the client ("" when nothing is to do),
// drop the previous owner whose index should forget this session ("" when
// the owner did not change).
var mergeScript = redis.NewScript(luaIndexAdd + luaChunked + `
local k = KEYS[1]
local now = tonumber(ARGV[2])
local meta = redis.call('HMGET', k, 'm:exp', 'm:uid')
local old = tonumber(meta[1])
local live = old ~= nil and old > now
local prev = meta[2] or ''
if not live then
  if ARGV[3] ~= '1' then
    if old ~= nil then redis.call('DEL', k) end
    return {0}
  end
  redis.call('DEL', k)
  prev = ''
end
local n = tonumber(ARGV[9])
chunked('HSET', k, 10, 9 + 2 * n)
chunked('HDEL', k, 10 + 2 * n, #ARGV)
redis.call('HSET', k, 'm:exp', ARGV[1])
local owner = prev
if ARGV[4] == '1' then
  owner = ARGV[5]
  if owner == '' then
    redis.call('HDEL', k, 'm:uid')
  else
    redis.call('HSET', k, 'm:uid', owner)
  end
end
redis.call('PEXPIREAT', k, ARGV[1])
local drop = ''
if owner ~= prev then drop = prev end
if owner == '' then return {1, '', drop} end
if KEYS[2] then
  index_add(KEYS[2], ARGV[6], ARGV[7], ARGV[2])
  return {1, '', drop}
end
if ARGV[4] == '1' then
  -- the client registered the new owner before running this script
  return {1, '', drop}
end
local g = tonumber(ARGV[8])
if not live or math.floor(tonumber(ARGV[1]) / g) > math.floor(old / g) then
  return {1, owner, drop}
end
return {1, '', drop}
`)

// saveScript replaces a record.
//
//	KEYS[1]  session hash
//	KEYS[2]  the owner's index (optional, as for mergeScript)
//	ARGV[1]  expiry (ms)   ARGV[2] now (ms)   ARGV[3] owner ("" for none)
//	ARGV[4]  index member  ARGV[5] index horizon (ms)
//	ARGV[6 ..]  field, value pairs
//
// It returns {1, drop}: drop is the previous owner whose index should forget
// the key ("" when there was none or it is unchanged).
var saveScript = redis.NewScript(luaIndexAdd + luaChunked + `
local k = KEYS[1]
local prev = redis.call('HGET', k, 'm:uid') or ''
redis.call('DEL', k)
if ARGV[3] == '' then
  redis.call('HSET', k, 'm:exp', ARGV[1])
else
  redis.call('HSET', k, 'm:exp', ARGV[1], 'm:uid', ARGV[3])
end
chunked('HSET', k, 6, #ARGV)
redis.call('PEXPIREAT', k, ARGV[1])
if KEYS[2] then index_add(KEYS[2], ARGV[4], ARGV[5], ARGV[2]) end
local drop = ''
if prev ~= ARGV[3] then drop = prev end
return {1, drop}
`)

// touchScript moves a live record's expiry.
//
//	KEYS[1]  session hash
//	ARGV[1]  new expiry (ms)   ARGV[2] now (ms)   ARGV[3] index granularity (ms)
//
// It returns {0} when there is no live record, else {1, refresh}: refresh is
// the owner whose index the client must extend ("" when the new expiry stays
// within the horizon already recorded).
var touchScript = redis.NewScript(`
local k = KEYS[1]
local meta = redis.call('HMGET', k, 'm:exp', 'm:uid')
local old = tonumber(meta[1])
if old == nil then return {0} end
if old <= tonumber(ARGV[2]) then
  redis.call('DEL', k)
  return {0}
end
redis.call('HSET', k, 'm:exp', ARGV[1])
redis.call('PEXPIREAT', k, ARGV[1])
local owner = meta[2]
local g = tonumber(ARGV[3])
if owner and math.floor(tonumber(ARGV[1]) / g) > math.floor(old / g) then
  return {1, owner}
end
return {1, ''}
`)

// takeScript removes one value from a live record and returns it, so that
// of concurrent takes of one value exactly one gets it.
//
//	KEYS[1]  session hash
//	ARGV[1]  the value's field ("v:<session key>")   ARGV[2] now (ms)
//
// It returns the value's tagged JSON, or nil when there is no live record
// (an expired leftover is deleted, as Touch and Merge do) or it holds no
// such field. The expiry, the owner and the other fields are left alone.
var takeScript = redis.NewScript(`
local k = KEYS[1]
local old = tonumber(redis.call('HGET', k, 'm:exp'))
if old == nil then return false end
if old <= tonumber(ARGV[2]) then
  redis.call('DEL', k)
  return false
end
local v = redis.call('HGET', k, ARGV[1])
if v then redis.call('HDEL', k, ARGV[1]) end
return v
`)

// deleteScript removes a record and returns its owner ("" for none), so the
// client can drop it from the owner's index.
var deleteScript = redis.NewScript(`
local owner = redis.call('HGET', KEYS[1], 'm:uid')
redis.call('DEL', KEYS[1])
return owner or ''
`)

// revokeScript deletes the record KEYS[1] only if its owner is still ARGV[1]
// (it may have changed since the index was read). It returns 1 when it
// deleted a live record (expiry after ARGV[2]), else 0.
var revokeScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'm:uid', 'm:exp')
if f[1] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
local e = tonumber(f[2])
if e ~= nil and e > tonumber(ARGV[2]) then return 1 end
return 0
`)

// indexScript maintains one user index on its own (the client runs it when
// the index could not be updated inside a session script).
//
//	KEYS[1]  user index
//	ARGV[1]  "a" to add or extend a member, "r" to remove members
//	ARGV[2]  now (ms)
//	ARGV[3]  for "a": the horizon (ms); ARGV[4]: the member
//	ARGV[3 ..] for "r": the members to remove
var indexScript = redis.NewScript(luaIndexAdd + luaChunked + `
if ARGV[1] == 'a' then
  index_add(KEYS[1], ARGV[4], ARGV[3], ARGV[2])
else
  chunked('ZREM', KEYS[1], 3, #ARGV)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
end
return 1
`)
