#ifndef SLICENET_MACMIRROR_H
#define SLICENET_MACMIRROR_H
/*
 * The fast path's mirror of the gateway forwarder's MAC table (slice-gateway/gateway/forwarder.ts
 * tells it of every change): MAC → slot (0 = the TAP side, else a peer), and when the fast path
 * last forwarded a frame from or to it, so the forwarder's aging sees traffic it did not carry.
 * Open addressing with linear probing and backward-shift deletion; bounded, no allocation after
 * init. Not thread-safe: used on the loop thread only.
 */
#include <stdbool.h>
#include <stdint.h>

#define MAC_CAP 32768u /* buckets: a power of two, twice the forwarder's default table */
#define MAC_MAX 16384u /* entries; beyond this a MAC stays JavaScript's */

typedef struct {
  uint64_t mac; /* 48 bits; bit 63 set marks a used bucket */
  uint32_t slot;
  double seen;
} mac_entry;

typedef struct {
  mac_entry *buckets;
  uint32_t count;
} mac_mirror;

/* The 48-bit MAC at p (network order). */
uint64_t mac_at(const uint8_t *p);
bool mac_mirror_init(mac_mirror *m);
void mac_mirror_free(mac_mirror *m);
void mac_mirror_clear(mac_mirror *m);
/* The entry for `mac`, or NULL. */
mac_entry *mac_find(mac_mirror *m, uint64_t mac);
/* Sets mac → slot (keeping `seen` of an entry that moves); false if the mirror is full. */
bool mac_set(mac_mirror *m, uint64_t mac, uint32_t slot);
void mac_delete(mac_mirror *m, uint64_t mac);
#endif
