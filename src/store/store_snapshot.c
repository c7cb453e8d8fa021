/* store_snapshot.c — the disk snapshot of the in-memory registration store, so a
 * restart keeps the bindings of RFC 3261 §10.3. Written atomically (path.tmp,
 * fsync, rename); read back with every length checked: a corrupt or truncated
 * file is an error naming the file and byte offset, never a crash.
 *
 * Format v2, little-endian:
 *   header  "SIPSTORE" u32 version=2 u32 header_len=24 i64 written_at_ms
 *   record  u32 len (>0), then len bytes: i64 expires_at u32 cseq u32 reg_id
 *           u16 q u8 proto u8 family u8[2] port (network order) u32 scope_id
 *           u8[16] addr, then seven (u16 len, bytes): aor contact instance
 *           call_id path owner node
 *   trailer u32 0, u64 record count, u64 FNV-1a-64 of every byte before it
 * Version 1 (written before bindings had a SIP Server node) is the same with
 * six strings, no node; it still loads, its bindings with an empty node. Only
 * v2 is written.
 * conn_id is not saved: connection ids mean nothing after a restart (and may be
 * reused for another peer), so reloaded bindings are reached by address. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_mem_internal.h"

#define SNAP_MAGIC	 "SIPSTORE"
#define SNAP_VERSION	 2u
#define SNAP_VERSION_V1	 1u /* six strings: no node */
#define SNAP_HEADER_LEN	 24u
#define SNAP_FIXED_LEN	 42u
#define SNAP_TRAILER_LEN 20u /* u32 0 + u64 count + u64 checksum */
#define SNAP_NSTR	 7
#define SNAP_NSTR_V1	 6

static uint64_t fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 1099511628211ull;
	}
	return h;
}
#define FNV64_INIT 14695981039346656037ull

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- writing ---- */

struct snap_writer {
	FILE *f;
	uint64_t h;
	unsigned char *buf;
	size_t cap;
	size_t count;
	int64_t now_ms;
	int err;
};

static void w_bytes(struct snap_writer *w, const void *p, size_t n)
{
	if (w->err || n == 0)
		return;
	w->h = fnv64(w->h, p, n);
	if (fwrite(p, 1, n, w->f) != n)
		w->err = errno ? errno : EIO;
}

static int write_binding(void *arg, const struct store_binding *b)
{
	struct snap_writer *w = arg;
	if (b->expires_at <= w->now_ms)
		return 0; /* only live bindings are worth keeping */
	const struct str s[SNAP_NSTR] = {b->aor,  b->contact, b->instance, b->call_id,
					 b->path, b->owner,   b->node};
	size_t len = SNAP_FIXED_LEN;
	for (int i = 0; i < SNAP_NSTR; i++)
		len += 2 + s[i].len;
	if (len + 4 > w->cap) {
		unsigned char *nb = realloc(w->buf, len + 4);
		if (!nb) {
			w->err = ENOMEM;
			return 1;
		}
		w->buf = nb;
		w->cap = len + 4;
	}
	unsigned char *p = w->buf;
	put_le(p, len, 4);
	put_le(p + 4, (uint64_t)b->expires_at, 8);
	put_le(p + 12, b->cseq, 4);
	put_le(p + 16, b->reg_id, 4);
	put_le(p + 20, b->q, 2);
	p[22] = (unsigned char)b->proto;
	uint32_t scope = 0;
	unsigned char addr[16] = {0}, port[2] = {0};
	p[23] = 0;
	if (b->source.sa.sa_family == AF_INET) {
		p[23] = AF_INET;
		memcpy(port, &b->source.in4.sin_port, 2);
		memcpy(addr, &b->source.in4.sin_addr, 4);
	} else if (b->source.sa.sa_family == AF_INET6) {
		p[23] = AF_INET6;
		memcpy(port, &b->source.in6.sin6_port, 2);
		memcpy(addr, &b->source.in6.sin6_addr, 16);
		scope = b->source.in6.sin6_scope_id;
	}
	memcpy(p + 24, port, 2);
	put_le(p + 26, scope, 4);
	memcpy(p + 30, addr, 16);
	unsigned char *q = p + 4 + SNAP_FIXED_LEN;
	for (int i = 0; i < SNAP_NSTR; i++) {
		put_le(q, s[i].len, 2);
		if (s[i].len)
			memcpy(q + 2, s[i].p, s[i].len);
		q += 2 + s[i].len;
	}
	w_bytes(w, w->buf, len + 4);
	w->count++;
	return w->err ? 1 : 0;
}

/* fsync the directory so the rename itself survives a crash. */
static void sync_dir(const char *path)
{
	char *dup = strdup(path);
	if (!dup)
		return;
	int fd = open(dirname(dup), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dup);
}

int store_snapshot_write(struct store *s, const char *path, int64_t now_ms, size_t *written,
			 char *err, size_t errlen)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "snapshot %s: path too long", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(errno));
		return -1;
	}
	struct snap_writer w = {.f = fdopen(fd, "wb"), .h = FNV64_INIT, .now_ms = now_ms};
	if (!w.f) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	unsigned char hdr[SNAP_HEADER_LEN];
	memcpy(hdr, SNAP_MAGIC, 8);
	put_le(hdr + 8, SNAP_VERSION, 4);
	put_le(hdr + 12, SNAP_HEADER_LEN, 4);
	put_le(hdr + 16, (uint64_t)now_ms, 8);
	errno = 0;
	w_bytes(&w, hdr, sizeof(hdr));
	store_iterate(s, write_binding, &w);
	unsigned char tr[SNAP_TRAILER_LEN];
	put_le(tr, 0, 4);
	put_le(tr + 4, w.count, 8);
	w_bytes(&w, tr, 12);
	put_le(tr + 12, w.h, 8); /* the checksum covers everything before it */
	if (!w.err && fwrite(tr + 12, 1, 8, w.f) != 8)
		w.err = errno ? errno : EIO;
	if (!w.err && fflush(w.f) != 0)
		w.err = errno ? errno : EIO;
	if (!w.err && fsync(fileno(w.f)) != 0)
		w.err = errno ? errno : EIO;
	if (fclose(w.f) != 0 && !w.err)
		w.err = errno ? errno : EIO;
	free(w.buf);
	if (!w.err && rename(tmp, path) != 0)
		w.err = errno ? errno : EIO;
	if (w.err) {
		snprintf(err, errlen, "snapshot %s: %s", tmp, strerror(w.err));
		unlink(tmp);
		return -1;
	}
	sync_dir(path);
	if (written)
		*written = w.count;
	return 0;
}

/* ---- reading ---- */

struct snap_reader {
	const unsigned char *p;
	size_t len, pos;
};

static bool r_take(struct snap_reader *r, size_t n, const unsigned char **out)
{
	if (r->len - r->pos < n)
		return false;
	*out = r->p + r->pos;
	r->pos += n;
	return true;
}

/* Decodes one record body of a file of format version ver; on failure
 * returns a reason, else NULL. */
static const char *decode_record(const unsigned char *p, size_t len, uint32_t ver,
				 struct store_binding *b)
{
	struct snap_reader r = {p, len, 0};
	const unsigned char *f;
	if (!r_take(&r, SNAP_FIXED_LEN, &f))
		return "record shorter than its fixed part";
	memset(b, 0, sizeof(*b));
	b->expires_at = (int64_t)get_le(f, 8);
	b->cseq = (uint32_t)get_le(f + 8, 4);
	b->reg_id = (uint32_t)get_le(f + 12, 4);
	b->q = (uint16_t)get_le(f + 16, 2);
	if (b->q > 1000)
		return "q-value above 1000";
	if (f[18] >= TP_PROTO_COUNT)
		return "unknown transport protocol";
	b->proto = (enum tp_proto)f[18];
	uint32_t scope = (uint32_t)get_le(f + 22, 4);
	if (f[19] == AF_INET) {
		b->source.in4.sin_family = AF_INET;
		memcpy(&b->source.in4.sin_port, f + 20, 2);
		memcpy(&b->source.in4.sin_addr, f + 26, 4);
	} else if (f[19] == AF_INET6) {
		b->source.in6.sin6_family = AF_INET6;
		memcpy(&b->source.in6.sin6_port, f + 20, 2);
		memcpy(&b->source.in6.sin6_addr, f + 26, 16);
		b->source.in6.sin6_scope_id = scope;
	} else if (f[19] != 0) {
		return "unknown address family";
	}
	struct str *s[SNAP_NSTR] = {&b->aor,  &b->contact, &b->instance, &b->call_id,
				    &b->path, &b->owner,   &b->node};
	/* v1 has no node: it stays empty (memset above). */
	int nstr = ver == SNAP_VERSION_V1 ? SNAP_NSTR_V1 : SNAP_NSTR;
	for (int i = 0; i < nstr; i++) {
		const unsigned char *l, *d;
		if (!r_take(&r, 2, &l))
			return "string length past the record end";
		size_t n = (size_t)get_le(l, 2);
		if (!r_take(&r, n, &d))
			return "string past the record end";
		*s[i] = str_make((const char *)d, n);
	}
	if (r.pos != r.len)
		return "extra bytes at the record end";
	if (!b->aor.len)
		return "empty address-of-record";
	if (!b->contact.len && !b->instance.len)
		return "binding without contact or instance";
	return NULL;
}

/* Pass 1: the framing (header, record lengths, trailer, checksum) before any
 * byte of a record is trusted. */
static int check_frame(const unsigned char *p, size_t size, const char *path, size_t *nrec,
		       uint32_t *version, char *err, size_t errlen)
{
	if (size < SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: truncated header at offset %zu", path, size);
		return -1;
	}
	if (memcmp(p, SNAP_MAGIC, 8) != 0) {
		snprintf(err, errlen, "snapshot %s: bad magic at offset 0", path);
		return -1;
	}
	uint32_t ver = (uint32_t)get_le(p + 8, 4);
	if ((ver != SNAP_VERSION && ver != SNAP_VERSION_V1) ||
	    get_le(p + 12, 4) != SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: unsupported version %u at offset 8", path, ver);
		return -1;
	}
	size_t off = SNAP_HEADER_LEN, n = 0;
	for (;;) {
		if (size - off < 4) {
			snprintf(err, errlen, "snapshot %s: truncated at offset %zu", path, off);
			return -1;
		}
		size_t len = (size_t)get_le(p + off, 4);
		if (len == 0)
			break;
		if (size - off - 4 < len) {
			snprintf(err, errlen,
				 "snapshot %s: record at offset %zu (length %zu) runs past the end "
				 "of the file (%zu bytes): truncated",
				 path, off, len, size);
			return -1;
		}
		off += 4 + len;
		n++;
	}
	if (size - off != SNAP_TRAILER_LEN) {
		snprintf(err, errlen, "snapshot %s: %s trailer at offset %zu", path,
			 size - off < SNAP_TRAILER_LEN ? "truncated" : "bytes after the", off);
		return -1;
	}
	if (get_le(p + off + 4, 8) != n) {
		snprintf(err, errlen,
			 "snapshot %s: trailer at offset %zu counts %llu records, file has %zu",
			 path, off, (unsigned long long)get_le(p + off + 4, 8), n);
		return -1;
	}
	if (get_le(p + off + 12, 8) != fnv64(FNV64_INIT, p, off + 12)) {
		snprintf(err, errlen, "snapshot %s: checksum mismatch (trailer at offset %zu)",
			 path, off + 12);
		return -1;
	}
	*nrec = n;
	*version = ver;
	return 0;
}

static int apply_records(struct store *s, const unsigned char *p, size_t nrec, uint32_t ver,
			 const char *path, int64_t now_ms, size_t *loaded, char *err, size_t errlen)
{
	size_t off = SNAP_HEADER_LEN;
	for (size_t i = 0; i < nrec; i++) {
		size_t len = (size_t)get_le(p + off, 4);
		struct store_binding b;
		const char *why = decode_record(p + off + 4, len, ver, &b);
		if (why) {
			snprintf(err, errlen, "snapshot %s: record %zu at offset %zu: %s", path, i,
				 off, why);
			return -1;
		}
		/* Bindings that lapsed while we were down are not restored. */
		if (b.expires_at > now_ms) {
			enum store_result rc = store_save(s, &b);
			if (rc == STORE_ERROR) {
				snprintf(err, errlen,
					 "snapshot %s: record %zu at offset %zu: cannot store it",
					 path, i, off);
				return -1;
			}
			if (rc == STORE_OK)
				(*loaded)++;
		}
		off += 4 + len;
	}
	return 0;
}

int store_snapshot_load(struct store *s, const char *path, int64_t now_ms, size_t *loaded,
			char *err, size_t errlen)
{
	*loaded = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* first start: no snapshot yet */
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size;
	if (size < SNAP_HEADER_LEN) {
		snprintf(err, errlen, "snapshot %s: truncated header at offset %zu", path, size);
		close(fd);
		return -1;
	}
	/* Mapped, not copied (hundreds of MB at 1M bindings). The writer only
	 * ever renames a new file over this one, never truncates it, so the
	 * mapping cannot shrink under us. */
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(errno));
		return -1;
	}
	size_t nrec = 0;
	uint32_t ver = 0;
	int rc = check_frame(map, size, path, &nrec, &ver, err, errlen);
	if (rc == 0)
		rc = apply_records(s, map, nrec, ver, path, now_ms, loaded, err, errlen);
	munmap(map, size);
	return rc < 0 ? -1 : 1;
}
