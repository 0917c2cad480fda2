#ifndef SLICENET_FASTPATH_STATE_H
#define SLICENET_FASTPATH_STATE_H
/*
 * What the fast path holds: shared by its packet paths (fastpath.c) and its JavaScript side
 * (fastpath_js.c). The contract is at the top of fastpath.c.
 */
#include <linux/virtio_net.h>
#include <time.h>

#include "aead.h"
#include "fastpath.h"
#include "macmirror.h"

/* Must match native/fastpath.ts. */
#define SLOTS 64
#define FIELDS 9
enum { RX_BYTES, RX_PACKETS, RX_LAST, RX_DATA_FIRST, RX_DATA_LAST, TX_BYTES, TX_PACKETS, TX_FIRST, TX_LAST };
enum { G_DIRTY, G_RX, G_TX, G_TAP_FULL, G_TAP_REFUSED, G_UDP_FULL, G_UDP_REFUSED, G_DECRYPT_FAILED, GLOBALS };
#define STATS_LEN (SLOTS * FIELDS + GLOBALS)

#define MAX_RX 256
#define ETHER_HEADER 14

/* A published receiving session: datagrams for `index` from addr:port, until `until`. */
typedef struct {
  uint32_t index;
  uint32_t slot;
  aead_key *key;
  uint8_t *replay;
  napi_ref refs[2]; /* the key and the replay window, held while published */
  uint32_t addr;
  uint16_t port;
  double until;
} rx_entry;

/* A peer slot's published sending session; its counter is counters[slot]. */
typedef struct {
  bool used;
  aead_key *key;
  napi_ref ref;
  uint32_t remote;
  uint32_t addr;
  uint16_t port;
  double until;
  uint64_t limit;
} tx_entry;

struct fastpath {
  int tap_fd, udp_fd;
  uint32_t hdr_len, max_frame;
  uint8_t hdr_flags;
  double *stats;
  uint64_t *counters;
  napi_ref stats_ref, counters_ref;
  uint32_t nrx;
  rx_entry rx[MAX_RX];
  tx_entry tx[SLOTS];
  mac_mirror macs;
  /* Room for the largest frame or datagram, after a virtio_net_hdr. */
  uint8_t out[sizeof(struct virtio_net_hdr) + 65536 + SN_AEAD_OVERHEAD];
};

/* The fast path's clock, in ms: what `until` deadlines and the stats' times are on. */
static inline double fast_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline rx_entry *rx_find(fastpath *f, uint32_t index) {
  for (uint32_t i = 0; i < f->nrx; i++)
    if (f->rx[i].index == index) return &f->rx[i];
  return NULL;
}
#endif
