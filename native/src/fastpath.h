#ifndef SLICENET_FASTPATH_H
#define SLICENET_FASTPATH_H
#include <stdbool.h>
#include <stdint.h>
#define NAPI_VERSION 8
#include <node_api.h>

/* The gateway's fast path for lone packets; the contract is at the top of fastpath.c. */
typedef struct fastpath fastpath;

bool sn_fast_init(napi_env env, napi_value exports);
/* The FastPath an object wraps, or NULL (nothing thrown) if `v` is not one. */
fastpath *sn_fast_unwrap(napi_env env, napi_value v);
/* Handles one frame read from the TAP (its virtio_net_hdr, if any, just before `frame`):
 * true if it was sent or dropped and counted here, false if JavaScript must handle it. */
bool sn_fast_tap(fastpath *f, const uint8_t *frame, uint32_t len);
/* Handles one datagram from addr:port (host order): true if handled here, as sn_fast_tap. */
bool sn_fast_udp(fastpath *f, const uint8_t *d, uint32_t len, uint32_t addr, uint16_t port);
#endif
