/* capture.h — a transport backend that sends nothing: listeners without
 * sockets, every message "sent" handed to a callback, packets injected by the
 * caller as if they had arrived, stream connections opened and closed at the
 * caller's word. The proxy's unit tests and the whole-proxy fuzzer run the
 * real receive path on it without touching the network. */
#ifndef SIPPROXY_TRANSPORT_CAPTURE_H
#define SIPPROXY_TRANSPORT_CAPTURE_H

#include "transport/transport.h"

/* One message the layers above sent; conn_id is the stream connection used
 * (0 for UDP). The bytes are valid during the call only. */
typedef void (*tp_capture_fn)(void *arg, const struct tp_dest *dest, uint64_t conn_id,
			      const char *buf, size_t len);

/* Switches every protocol of tp to capture (before tp_listen). */
void tp_capture_enable(struct tp *tp, tp_capture_fn fn, void *arg);
/* A new inbound stream connection from peer; returns its id (> 0). */
uint64_t tp_capture_accept(struct tp *tp, enum tp_proto proto, const union tp_sockaddr *peer);
/* Delivers buf as received from src over proto (conn_id for a stream, which
 * must be open; 0 for UDP) to the listener of that protocol and family. */
void tp_capture_inject(struct tp *tp, enum tp_proto proto, const union tp_sockaddr *src,
		       uint64_t conn_id, const char *buf, size_t len);
/* The same, over the open stream connection conn_id (from its peer). */
void tp_capture_inject_conn(struct tp *tp, uint64_t conn_id, const char *buf, size_t len);
/* The peer closed a stream connection (the layers above are told). */
void tp_capture_close(struct tp *tp, uint64_t conn_id);

#endif
