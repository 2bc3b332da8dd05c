#!lua
-- The shebang above makes Redis (7+) check for out-of-memory before the
-- script starts, instead of at its first write, so the script never stops
-- part-way: a call's rate charge, claims and stream appends happen all
-- together or not at all.
--
-- KEYS[1] the tenant's signal stream; KEYS[2 .. n+1] the dedup claims of
-- the call's n signals; KEYS[n+2] the tenant's rate limiter key, present
-- only when the call is charged. All are in the tenant's hash slot.
--
-- ARGV[1] the payloads to charge to the tenant's rate, 0 for none;
-- ARGV[2] the burst, ARGV[3] the rate and ARGV[4] the period in seconds;
-- ARGV[5] the dedup window in milliseconds; then three per signal: "firing"
-- or "resolved", the new signal ID to claim with, and the marshalled
-- SignalEvent without kind, signal_id and signal.id.
--
-- Returns {-1, retry_after} when the charge does not fit the rate, with
-- nothing charged or recorded (retry_after in seconds, as a string), and
-- otherwise {kind_1, signal_id_1, ..., kind_n, signal_id_n}, with kind 1
-- OPENED, 2 REPEATED, 3 RESOLVED.
--
-- The charge is go-redis/redis_rate v10's GCRA (its allowN script), on the
-- same key and state, so a limiter using redis_rate on the same key (the
-- plane's IngestBatch path) meters the same tenant budget.
--
-- Only the script knows which signal ID an event is about (the new one or
-- the claim's), so it completes the event by appending protobuf fields to
-- it: a message's encodings may be concatenated, later scalar fields win
-- and a repeated message field is merged into the earlier one. It adds
-- kind (field 1, varint), signal_id (field 2) and signal (field 3) holding
-- only its id (field 1).

local n = (#ARGV - 5) / 3

local cost = tonumber(ARGV[1])
if cost > 0 then
  local rate_limit_key = KEYS[n + 2]
  local burst = ARGV[2]
  local rate = ARGV[3]
  local period = ARGV[4]

  local emission_interval = period / rate
  local increment = emission_interval * cost
  local burst_offset = emission_interval * burst

  -- Seconds since Jan 1, 2017, as redis_rate counts them (see its script
  -- on why the epoch is moved).
  local jan_1_2017 = 1483228800
  local now = redis.call("TIME")
  now = (now[1] - jan_1_2017) + (now[2] / 1000000)

  local tat = redis.call("GET", rate_limit_key)
  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end
  tat = math.max(tat, now)

  local new_tat = tat + increment
  local allow_at = new_tat - burst_offset
  local diff = now - allow_at
  if diff / emission_interval < 0 then
    return {-1, tostring(diff * -1)}
  end
  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", rate_limit_key, new_tat, "EX", math.ceil(reset_after))
  end
end

local function varint(v)
  local out = {}
  while v >= 128 do
    out[#out + 1] = string.char(v % 128 + 128)
    v = math.floor(v / 128)
  end
  out[#out + 1] = string.char(v)
  return table.concat(out)
end

local function bytesfield(tag, s)
  return string.char(tag) .. varint(#s) .. s
end

local function append(event, kind, id)
  event = event .. string.char(0x08, kind)
  if id ~= '' then
    event = event .. bytesfield(0x12, id) .. bytesfield(0x1a, bytesfield(0x0a, id))
  end
  -- No MAXLEN: trimming could drop entries the orchestrator has not acked.
  redis.call('XADD', KEYS[1], '*', 'event', event)
end

local window = ARGV[5]
local out = {}
for i = 1, n do
  local claim = KEYS[i + 1]
  local mode, new_id, event = ARGV[3 * i + 3], ARGV[3 * i + 4], ARGV[3 * i + 5]
  local kind, id
  if mode == 'resolved' then
    -- The claim may have expired; the orchestrator then resolves by
    -- fingerprint, which the event's signal carries.
    kind, id = 3, redis.call('GET', claim) or ''
    append(event, kind, id)
    redis.call('DEL', claim)
  else
    -- NX with GET (Redis 7.0+): one call both claims a new fingerprint
    -- (answering nil) and reads the claim of a repeat.
    local claimed = redis.call('SET', claim, new_id, 'NX', 'GET', 'PX', window)
    if not claimed then
      kind, id = 1, new_id
    else
      kind, id = 2, claimed
    end
    append(event, kind, id)
  end
  out[#out + 1] = kind
  out[#out + 1] = id
end
return out
