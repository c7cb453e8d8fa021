/* frame.c — message framing on stream transports (RFC 3261 §18.3): the header
 * block ends at the first empty line and Content-Length (long or compact "l",
 * §7.3.3) is mandatory and gives the body size. Works on partial input so the
 * transport can call it each time bytes arrive. */
#include <string.h>

#include "sip/parse_int.h"

/* Content-Length value: LWS 1*DIGIT LWS (folds included). */
static long cl_value(const char *p, const char *e)
{
	p = sp_skip_ws(p, e);
	const char *d = p;
	long v = 0;
	while (p < e && sc_is((unsigned char)*p, SC_DIGIT)) {
		v = v * 10 + (*p - '0');
		if (v > 0x7fffffffL)
			return -1;
		p++;
	}
	if (p == d || sp_skip_ws(p, e) != e)
		return -1;
	return v;
}

long sip_frame_length(const char *buf, size_t len, size_t max_message)
{
	if (!buf)
		return 0;
	const char *p = buf, *e = buf + len;
	long cl = -1;
	bool first = true;
	for (;;) {
		const char *lf = memchr(p, '\n', (size_t)(e - p));
		/* A field may continue on the next line (fold): we must see the octet
		 * after its LF before we know where it ends. */
		while (lf && !first && lf > p + 1 && lf + 1 < e && (lf[1] == ' ' || lf[1] == '\t'))
			lf = memchr(lf + 1, '\n', (size_t)(e - lf - 1));
		if (!lf || (!first && lf + 1 == e && lf > p + 1))
			return len > max_message ? -1 : 0;
		size_t hdr_len = (size_t)(lf + 1 - buf);
		if (hdr_len > max_message)
			return -1;
		if (!first && lf == p + 1 && *p == '\r') {
			/* Empty line: the header block is complete. */
			if (cl < 0)
				return -1;
			size_t total = hdr_len + (size_t)cl;
			if (total > max_message)
				return -1;
			return total > len ? 0 : (long)total;
		}
		if (!first && (*p == 'l' || *p == 'L' || *p == 'c' || *p == 'C')) {
			const char *n = p;
			while (n < lf && sc_is((unsigned char)*n, SC_TOKEN))
				n++;
			size_t nlen = (size_t)(n - p);
			if (sip_hdr_name_id(p, nlen) == SIP_HDR_CONTENT_LENGTH) {
				n = sp_skip_ws(n, lf);
				if (n >= lf || *n != ':')
					return -1;
				long v = cl_value(n + 1, lf + 1);
				if (v < 0 || (cl >= 0 && v != cl))
					return -1;
				cl = v;
			}
		}
		first = false;
		p = lf + 1;
	}
}
