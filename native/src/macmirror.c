#include "macmirror.h"

#include <stdlib.h>
#include <string.h>

#define USED (1ull << 63)
#define NEXT(i) (((i) + 1) & (MAC_CAP - 1))

uint64_t mac_at(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 6; i++) v = (v << 8) | p[i];
  return v;
}

/* Fibonacci hashing: the top 15 bits of the product. */
static uint32_t home(uint64_t mac) { return (uint32_t)((mac * 0x9E3779B97F4A7C15ull) >> 49) & (MAC_CAP - 1); }

bool mac_mirror_init(mac_mirror *m) {
  m->buckets = calloc(MAC_CAP, sizeof *m->buckets);
  m->count = 0;
  return m->buckets != NULL;
}

void mac_mirror_free(mac_mirror *m) {
  free(m->buckets);
  m->buckets = NULL;
  m->count = 0;
}

void mac_mirror_clear(mac_mirror *m) {
  memset(m->buckets, 0, MAC_CAP * sizeof *m->buckets);
  m->count = 0;
}

mac_entry *mac_find(mac_mirror *m, uint64_t mac) {
  for (uint32_t i = home(mac);; i = NEXT(i)) {
    mac_entry *e = &m->buckets[i];
    if (!(e->mac & USED)) return NULL;
    if (e->mac == (mac | USED)) return e;
  }
}

bool mac_set(mac_mirror *m, uint64_t mac, uint32_t slot) {
  uint32_t i = home(mac);
  for (; m->buckets[i].mac & USED; i = NEXT(i))
    if (m->buckets[i].mac == (mac | USED)) {
      m->buckets[i].slot = slot;
      return true;
    }
  if (m->count >= MAC_MAX) return false;
  m->buckets[i] = (mac_entry){mac | USED, slot, 0};
  m->count++;
  return true;
}

void mac_delete(mac_mirror *m, uint64_t mac) {
  mac_entry *e = mac_find(m, mac);
  if (!e) return;
  uint32_t hole = (uint32_t)(e - m->buckets);
  m->buckets[hole].mac = 0;
  m->count--;
  /* Move back every later entry of the run that may now be found earlier. */
  for (uint32_t i = NEXT(hole); m->buckets[i].mac & USED; i = NEXT(i)) {
    uint32_t h = home(m->buckets[i].mac & ~USED);
    /* The entry stays if its home lies cyclically in (hole, i]. */
    bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
    if (stays) continue;
    m->buckets[hole] = m->buckets[i];
    m->buckets[i].mac = 0;
    hole = i;
  }
}
