#!lua
-- The shebang above makes Redis (7+) check for out-of-memory before the
-- script starts, instead of at its first write, so the script never stops
-- between the claim and the stream append.
--
-- KEYS[1] the dedup claim, KEYS[2] the tenant's signal stream.
-- ARGV[1] "firing" or "resolved"; ARGV[2] the new signal ID to claim with;
-- ARGV[3] the dedup window in milliseconds; ARGV[4] the marshalled
-- SignalEvent without kind, signal_id and signal.id.
--
-- Only the script knows which signal ID the event is about (the new one or
-- the claim's), so it completes the event by appending protobuf fields to
-- ARGV[4]: a message's encodings may be concatenated, later scalar fields
-- win and a repeated message field is merged into the earlier one. It adds
-- kind (field 1, varint), signal_id (field 2) and signal (field 3) holding
-- only its id (field 1).
--
-- Returns {kind, signal_id} with kind 1 OPENED, 2 REPEATED, 3 RESOLVED.

local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end

local function bytesfield(tag, s)
  return string.char(tag) .. varint(#s) .. s
end

local function append(kind, id)
  local event = ARGV[4] .. string.char(0x08, kind)
  if id ~= '' then
    event = event .. bytesfield(0x12, id) .. bytesfield(0x1a, bytesfield(0x0a, id))
  end
  -- No MAXLEN: trimming could drop entries the orchestrator has not acked.
  redis.call('XADD', KEYS[2], '*', 'event', event)
end

if ARGV[1] == 'resolved' then
  -- The claim may have expired; the orchestrator then resolves by
  -- fingerprint, which the event's signal carries.
  local id = redis.call('GET', KEYS[1]) or ''
  append(3, id)
  redis.call('DEL', KEYS[1])
  return {3, id}
end

if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
  append(1, ARGV[2])
  return {1, ARGV[2]}
end

local id = redis.call('GET', KEYS[1]) or ''
append(2, id)
return {2, id}
