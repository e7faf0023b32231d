"""Redis key names, the stored entry format and the Lua scripts of the Redis layer.

Every key carries its channel, inbox or group name as a hash tag (``{...}``), so the keys a
script touches together (an inbox and its counters) sit in one Redis Cluster slot.

A stored entry is ``<milliseconds>NUL<local names, comma separated>NUL<payload>``; entries on
normal channels have no local names. Names never hold ``NUL``, ``,`` or ``*``, so splitting on
the first two separators is unambiguous whatever the payload bytes are. A group message's
names start with ``*``: it was pushed without touching the capacity counts (that would cost
two Redis calls per member), and the receiving process, which knows exactly how full each of
its channels is, skips the full ones.
"""

from __future__ import annotations

__all__ = [
    "ADJUST",
    "DELIVER",
    "GROUP_ADD",
    "GROUP_DISCARD",
    "GROUP_RENEW",
    "GROUP_ROUTES",
    "channel_key",
    "counts_key",
    "encode_entry",
    "gone_key",
    "group_key",
    "inbox_key",
    "key_patterns",
    "split_entry",
]


def channel_key(prefix: str, channel: str) -> str:
    return f"{prefix}:ch:{{{channel}}}"


def inbox_key(prefix: str, inbox: str) -> str:
    return f"{prefix}:in:{{{inbox}}}"


def counts_key(prefix: str, inbox: str) -> str:
    return f"{prefix}:in:{{{inbox}}}:n"


def group_key(prefix: str, group: str) -> str:
    return f"{prefix}:gr:{{{group}}}"


def gone_key(prefix: str, group: str) -> str:
    """Channels another process removed from ``group``: their owners must not restore them."""
    return f"{prefix}:gr:{{{group}}}:gone"


def key_patterns(prefix: str) -> list[str]:
    return [f"{prefix}:ch:*", f"{prefix}:in:*", f"{prefix}:gr:*"]


def encode_entry(now_ms: int, payload: bytes) -> bytes:
    return b"%d\x00\x00%b" % (now_ms, payload)


def split_entry(entry: bytes) -> tuple[int, list[str], bytes, bool]:
    """Return an entry's stamp, local names, payload, and whether it is a group message."""
    stamp, names, payload = entry.split(b"\x00", 2)
    grouped = names.startswith(b"*")
    if grouped:
        names = names[1:]
    return int(stamp), (names.decode().split(",") if names else []), payload, grouped


_FUNCTIONS = r"""
local function push_inbox(inbox, counts, suffix, cap, now, expiry, payload, live)
  local held = tonumber(redis.call('HGET', counts, suffix) or 0)
  if held >= cap then return 0, 1 end
  redis.call('HINCRBY', counts, suffix, 1)
  local entry = now .. '\0' .. suffix .. '\0' .. payload
  -- A reader subscribed to the inbox takes it straight away; otherwise it waits in the list.
  if not (live and redis.call('PUBLISH', inbox, entry) > 0) then
    redis.call('RPUSH', inbox, entry)
    redis.call('PEXPIRE', inbox, expiry)
  end
  redis.call('PEXPIRE', counts, expiry)
  return 1, 0
end

-- Drops the expired entries at the head of a list. For an inbox, pass its counts hash: an
-- entry a send counted (one local name, no '*') gives its count back as it goes.
local function drop_expired(key, now, expiry, counts)
  local cutoff = tonumber(now) - tonumber(expiry)
  while true do
    local head = redis.call('LINDEX', key, 0)
    if not head then return end
    local stamp, names = string.match(head, '^(%d+)%z([^%z]*)%z')
    stamp = tonumber(stamp)
    if stamp == nil or stamp >= cutoff then return end
    redis.call('LPOP', key)
    if counts and names ~= '' and string.sub(names, 1, 1) ~= '*' then
      if redis.call('HINCRBY', counts, names, -1) <= 0 then redis.call('HDEL', counts, names) end
    end
  end
end

-- A group message for some channels of one inbox; no capacity counts (see the module doc).
local function push_group(inbox, counts, names, now, expiry, payload, live)
  local entry = now .. '\0*' .. names .. '\0' .. payload
  if not (live and redis.call('PUBLISH', inbox, entry) > 0) then
    -- Nobody reads this inbox now. Without counts to stop them, group messages to a
    -- vanished process would pile up until its memberships expire: keep only live ones.
    drop_expired(inbox, now, expiry, counts)
    redis.call('RPUSH', inbox, entry)
    redis.call('PEXPIRE', inbox, expiry)
  end
end

local function push_list(key, cap, now, expiry, payload)
  local length = redis.call('LLEN', key)
  if length >= cap then
    -- expired entries must not count against the capacity
    drop_expired(key, now, expiry, false)
    if redis.call('LLEN', key) >= cap then return 0, 1 end
  end
  redis.call('RPUSH', key, now .. '\0\0' .. payload)
  redis.call('PEXPIRE', key, expiry)
  return 1, 0
end
"""

# KEYS: per destination (inbox, counts) or (list).  ARGV: now, expiry, payload,
# then per destination "i", suffix, cap (a send to one channel of an inbox), "g", live,
# "suffix,suffix,..." (a group message to an inbox)  or  "l", cap (a list); "p" instead of
# "i" and live "1" publish to a subscribed reader of the inbox first (not on a cluster).
DELIVER = (
    _FUNCTIONS
    + r"""
local now, expiry, payload = ARGV[1], ARGV[2], ARGV[3]
local delivered, dropped, k, a = 0, 0, 1, 4
while a <= #ARGV do
  local d, x = 0, 0
  if ARGV[a] == 'i' or ARGV[a] == 'p' then
    local cap = tonumber(ARGV[a + 2])
    d, x = push_inbox(KEYS[k], KEYS[k + 1], ARGV[a + 1], cap, now, expiry, payload, ARGV[a] == 'p')
    k, a = k + 2, a + 3
  elseif ARGV[a] == 'g' then
    push_group(KEYS[k], KEYS[k + 1], ARGV[a + 2], now, expiry, payload, ARGV[a + 1] == '1')
    local _, commas = string.gsub(ARGV[a + 2], ',', '')
    d = commas + 1
    k, a = k + 2, a + 3
  else
    d, x = push_list(KEYS[k], tonumber(ARGV[a + 1]), now, expiry, payload)
    k, a = k + 1, a + 2
  end
  delivered, dropped = delivered + d, dropped + x
end
return {delivered, dropped}
"""
)

# KEYS[1]: group.  ARGV: cutoff.  Returns the live members grouped for delivery:
# {{inbox, "suffix,suffix,...", inbox, ...}, {plain channel, ...}}, so the sender's work
# grows with the number of processes, not of members.
GROUP_ROUTES = r"""
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local inboxes, order, plain = {}, {}, {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local bang = string.find(member, '!', 1, true)
  if bang then
    local inbox = string.sub(member, 1, bang - 1)
    local suffixes = inboxes[inbox]
    if suffixes == nil then
      suffixes = {}
      inboxes[inbox] = suffixes
      order[#order + 1] = inbox
    end
    suffixes[#suffixes + 1] = string.sub(member, bang + 1)
  else
    plain[#plain + 1] = member
  end
end
local routes = {}
for _, inbox in ipairs(order) do
  routes[#routes + 1] = inbox
  routes[#routes + 1] = table.concat(inboxes[inbox], ',')
end
return {routes, plain}
"""

# KEYS[1]: group, KEYS[2]: its removals.  ARGV: now, member, group expiry (seconds).
GROUP_ADD = r"""
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
"""

# KEYS[1]: group, KEYS[2]: its removals.  ARGV: now, member, group expiry (seconds).
# A process removing a channel it does not own leaves a note, so that the owner, which
# re-asserts its memberships, drops this one instead of restoring it.
GROUP_DISCARD = r"""
redis.call('ZREM', KEYS[1], ARGV[2])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS: per group (group, removals).  ARGV: group expiry (seconds), then per group: the
# number of members n, then n times (score, joined, member).  A member goes back with at
# least its score (ZADD GT keeps a newer one) unless another process removed it after it
# joined.  Returns the members that were missing (written back), then the removed ones,
# both as "index member" (index of the group in KEYS, from 0).
GROUP_RENEW = r"""
local restored, removed, a = {}, {}, 2
for g = 1, #KEYS, 2 do
  local n = tonumber(ARGV[a])
  a = a + 1
  for i = 1, n do
    local score, joined, member = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]
    a = a + 3
    local gone = redis.call('HGET', KEYS[g + 1], member)
    if gone and tonumber(gone) >= joined then
      removed[#removed + 1] = ((g - 1) / 2) .. ' ' .. member
    elseif redis.call('ZADD', KEYS[g], 'GT', score, member) == 1 then
      restored[#restored + 1] = ((g - 1) / 2) .. ' ' .. member
    end
  end
  redis.call('EXPIRE', KEYS[g], ARGV[1])
end
return {restored, removed}
"""

# KEYS[1]: inbox counters.  ARGV: expiry, then suffix, change, suffix, change, ...
ADJUST = r"""
local grew = false
for i = 2, #ARGV, 2 do
  local change = tonumber(ARGV[i + 1])
  if redis.call('HINCRBY', KEYS[1], ARGV[i], change) <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
  if change > 0 then grew = true end
end
if grew then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
"""
