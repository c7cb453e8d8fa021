/* repl_script.c — the one Lua script through which every proxy changes a
 * shared record (repl.h), so each change is atomic in Redis: lapsed or
 * unreadable records of the group are dropped (and logged), the RFC 3261
 * §10.3 step 7 check runs against what Redis holds (same Call-ID and a CSeq
 * not newer: stale, the current record is returned), the partition's
 * counter gives the change its version, and the group's records (a field
 * of its bucket, headed by their latest expiry) and the log entry are
 * written together; a group left without records is deleted from the
 * bucket. Op g sweeps a bucket instead, a slice at a time (HSCAN from the
 * cursor in ARGV 4, about REPL_SWEEP_COUNT groups): every group whose
 * latest expiry has passed is deleted (not logged: each proxy expires its
 * records itself, as when Redis expired a key). A version is max(last + 1, Redis's clock in µs):
 * it grows even across a Redis that lost its data (restarted empty, a
 * failover to a replica that lagged), so old and new versions still sort. Each log entry
 * carries its version (v) and the partition's version before it (w): every version is logged
 * once, in order, so a reader whose last entry's version is not the next entry's w missed
 * entries (trimmed before it read them). Versions, expiries and CSeqs travel as decimal
 * strings: a Lua number would print a large one in exponent form.
 *
 * KEYS: 1 the group's bucket, 2 the partition's log, 3 its version counter.
 * ARGV: 1 op (s r x a g), 2 kind, 3 group, 4 field, 5 Call-ID, 6 CSeq,
 *       7 expires (ms since the epoch), 8 payload, 9 origin, 10 log length.
 * Returns {"ok", version} | {"stale", version[, current value]} | {"none", 0};
 * op g {"ok", groups deleted, next cursor ("0": the bucket is done)}. */
#include "store/repl_internal.h"

const char repl_script_src[] =
    "local b, log, vk = KEYS[1], KEYS[2], KEYS[3]\n"
    "local op, kind, group, field, cid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n"
    "local cseq, exps = tonumber(ARGV[6]), ARGV[7]\n"
    "local exp = tonumber(exps)\n"
    "local payload, origin, maxlen = ARGV[8], ARGV[9], ARGV[10]\n"
    "if not cseq or not exp then return redis.error_reply('ERR sipproxy: bad arguments') end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "if op == 'g' then\n"
    "  local res, n = redis.call('HSCAN', b, field, 'COUNT', " REPL_SWEEP_COUNT "), 0\n"
    "  local all = res[2]\n"
    "  for i = 1, #all, 2 do\n"
    "    local e = tonumber(string.match(all[i + 1], '^(%d+)\\n'))\n"
    "    if not e or e <= now then redis.call('HDEL', b, all[i]); n = n + 1 end\n"
    "  end\n"
    "  return {'ok', n, res[1]}\n"
    "end\n"
    "local function newver()\n"
    "  local prev = redis.call('GET', vk) or '0'\n"
    "  local v = math.max((tonumber(prev) or 0) + 1, now * 1000)\n"
    "  local s = string.format('%.0f', v)\n"
    "  redis.call('SET', vk, s)\n"
    "  return s, prev\n"
    "end\n"
    "local function logit(o, ver, prev, k, val)\n"
    "  redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', 'o', o, 't', kind, 'g', group,\n"
    "             'k', k, 'v', ver, 'w', prev, 'b', val, 'p', origin)\n"
    "end\n"
    /* a record {key, value, expiry, version, cseq, call-id}; nil if its head is unreadable */
    "local function rec(k, v)\n"
    "  local ver, e, s, c = string.match(v, '^(%d+) (%d+) (%d+) ([^\\n]*)\\n')\n"
    "  if not ver then return nil end\n"
    "  return {k, v, tonumber(e), ver, tonumber(s), c}\n"
    "end\n"
    /* the group's records; what cannot be read (a bad frame ends the group) is dropped and
     * logged with the lapsed */
    "local g = redis.call('HGET', b, group)\n"
    "local keep, changed = {}, false\n"
    "if g then\n"
    "  local nl = string.find(g, '\\n', 1, true)\n"
    "  changed = not nl\n"
    "  local pos = (nl or #g) + 1\n"
    "  while pos <= #g do\n"
    "    local _, e, kl, vl = string.find(g, '^(%d+) (%d+)\\n', pos)\n"
    "    local ve = e and e + tonumber(kl) + tonumber(vl)\n"
    "    if not e or ve > #g then changed = true; break end\n"
    "    local k = string.sub(g, e + 1, e + tonumber(kl))\n"
    "    local r = rec(k, string.sub(g, e + tonumber(kl) + 1, ve))\n"
    "    if r and r[3] > now then\n"
    "      keep[#keep + 1] = r\n"
    "    else\n"
    "      local ver, prev = newver()\n"
    "      logit('x', ver, prev, k, '')\n"
    "      changed = true\n"
    "    end\n"
    "    pos = ve + 1\n"
    "  end\n"
    "end\n"
    "local function store()\n"
    "  if #keep == 0 then\n"
    "    if g then redis.call('HDEL', b, group) end\n"
    "    return\n"
    "  end\n"
    "  local parts, maxe = {''}, 0\n"
    "  for _, r in ipairs(keep) do\n"
    "    if r[3] > maxe then maxe = r[3] end\n"
    "    parts[#parts + 1] = #r[1] .. ' ' .. #r[2] .. '\\n' .. r[1] .. r[2]\n"
    "  end\n"
    "  parts[1] = string.format('%.0f', maxe) .. '\\n'\n"
    "  redis.call('HSET', b, group, table.concat(parts))\n"
    "end\n"
    "local function done(...)\n"
    "  if changed then store() end\n"
    "  return {...}\n"
    "end\n"
    "if op == 'x' then return done('ok', 0) end\n"
    "if op == 'a' then\n"
    "  if #keep == 0 then return done('none', 0) end\n"
    "  for _, r in ipairs(keep) do\n"
    "    if r[6] == cid and r[5] >= cseq then return done('stale', r[4]) end\n"
    "  end\n"
    "  local ver, prev = newver()\n"
    "  keep, changed = {}, true\n"
    "  logit('a', ver, prev, '', '')\n"
    "  return done('ok', ver)\n"
    "end\n"
    "local at\n"
    "for i, r in ipairs(keep) do\n"
    "  if r[1] == field then at = i end\n"
    "end\n"
    "if at and keep[at][6] == cid and keep[at][5] >= cseq then\n"
    "  return done('stale', keep[at][4], keep[at][2])\n"
    "end\n"
    "if op == 'r' then\n"
    "  if not at then return done('none', 0) end\n"
    "  local ver, prev = newver()\n"
    "  table.remove(keep, at)\n"
    "  changed = true\n"
    "  logit('r', ver, prev, field, '')\n"
    "  return done('ok', ver)\n"
    "end\n"
    "if op ~= 's' then\n"
    "  if changed then store() end\n"
    "  return redis.error_reply('ERR sipproxy: unknown op')\n"
    "end\n"
    "local ver, prev = newver()\n"
    "local val = ver .. ' ' .. exps .. ' ' .. ARGV[6] .. ' ' .. cid .. '\\n' .. payload\n"
    "keep[at or #keep + 1] = {field, val, exp, ver, cseq, cid}\n"
    "changed = true\n"
    "logit('s', ver, prev, field, val)\n"
    "return done('ok', ver)\n";
