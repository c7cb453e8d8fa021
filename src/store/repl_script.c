/* repl_script.c — the one Lua script through which every proxy changes a
 * shared record (repl.h), so each change is atomic in Redis: lapsed or
 * unreadable records of the group are dropped (and logged), the RFC 3261
 * §10.3 step 7 check runs against what Redis holds (same Call-ID and a CSeq
 * not newer: stale, the current record is returned), the partition's
 * counter gives the change its version, and hash, key expiry and log entry
 * are written together. A version is max(last + 1, Redis's clock in µs):
 * it grows even across a Redis that lost its data (restarted empty, a
 * failover to a replica that lagged), so old and new versions still sort. Each log entry
 * carries its version (v) and the partition's version before it (w): every version is logged
 * once, in order, so a reader whose last entry's version is not the next entry's w missed
 * entries (trimmed before it read them). Versions, expiries and CSeqs travel as decimal
 * strings: a Lua number would print a large one in exponent form.
 *
 * KEYS: 1 the group's hash, 2 the partition's log, 3 its version counter.
 * ARGV: 1 op (s r x a), 2 kind, 3 group, 4 field, 5 Call-ID, 6 CSeq,
 *       7 expires (ms since the epoch), 8 payload, 9 origin, 10 log length.
 * Returns {"ok", version} | {"stale", version[, current value]} | {"none", 0}. */
#include "store/repl_internal.h"

const char repl_script_src[] =
    "local h, log, vk = KEYS[1], KEYS[2], KEYS[3]\n"
    "local op, kind, group, field, cid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]\n"
    "local cseq, exps = tonumber(ARGV[6]), ARGV[7]\n"
    "local exp = tonumber(exps)\n"
    "local payload, origin, maxlen = ARGV[8], ARGV[9], ARGV[10]\n"
    "if not cseq or not exp then return redis.error_reply('ERR sipproxy: bad arguments') end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local function head(v)\n"
    "  local ver, e, s, c = string.match(v, '^(%d+) (%d+) (%d+) ([^\\n]*)\\n')\n"
    "  return ver, tonumber(e), tonumber(s), c\n"
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
    "local all = redis.call('HGETALL', h)\n"
    "local live = 0\n"
    "for i = 1, #all, 2 do\n"
    "  local _, e = head(all[i + 1])\n"
    "  if not e or e <= now then\n"
    "    redis.call('HDEL', h, all[i])\n"
    "    local ver, prev = newver()\n"
    "    logit('x', ver, prev, all[i], '')\n"
    "  else\n"
    "    live = live + 1\n"
    "  end\n"
    "end\n"
    "if op == 'x' then return {'ok', 0} end\n"
    "if op == 'a' then\n"
    "  if live == 0 then return {'none', 0} end\n"
    "  for i = 2, #all, 2 do\n"
    "    local ver, e, s, c = head(all[i])\n"
    "    if e and e > now and c == cid and s >= cseq then return {'stale', ver} end\n"
    "  end\n"
    "  local ver, prev = newver()\n"
    "  redis.call('DEL', h)\n"
    "  logit('a', ver, prev, '', '')\n"
    "  return {'ok', ver}\n"
    "end\n"
    "local cur = redis.call('HGET', h, field)\n"
    "if cur then\n"
    "  local ver, _, s, c = head(cur)\n"
    "  if c == cid and s >= cseq then return {'stale', ver, cur} end\n"
    "end\n"
    "if op == 'r' then\n"
    "  if not cur then return {'none', 0} end\n"
    "  local ver, prev = newver()\n"
    "  redis.call('HDEL', h, field)\n"
    "  logit('r', ver, prev, field, '')\n"
    "  return {'ok', ver}\n"
    "end\n"
    "if op ~= 's' then return redis.error_reply('ERR sipproxy: unknown op') end\n"
    "local ver, prev = newver()\n"
    "local val = ver .. ' ' .. exps .. ' ' .. ARGV[6] .. ' ' .. cid .. '\\n' .. payload\n"
    "redis.call('HSET', h, field, val)\n"
    "if redis.call('PEXPIRETIME', h) < exp then redis.call('PEXPIREAT', h, exp) end\n"
    "logit('s', ver, prev, field, val)\n"
    "return {'ok', ver}\n";
