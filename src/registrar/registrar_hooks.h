/* registrar_hooks.h — the registrar as the proxy core's location service. */
#ifndef SIPPROXY_REGISTRAR_HOOKS_H
#define SIPPROXY_REGISTRAR_HOOKS_H

#include "proxy/proxy.h"
#include "registrar/registrar.h"

void registrar_proxy_hooks(struct registrar *r, struct proxy_location *out);

#endif
