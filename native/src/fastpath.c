/*
 * The gateway's fast path: a lone packet crosses the gateway inside the reader's uv_poll
 * callback, in C, without waking JavaScript.
 *
 *   TAP reader woke with 1 frame ─sn_fast_tap→ plain unicast, source learned on the TAP side,
 *       destination learned behind peer P, P's sending session live → seal → sendto
 *   UDP reader woke with 1 datagram ─sn_fast_udp→ transport message of a published session, from
 *       the peer's endpoint, before its deadline, not a replay → open → source MAC learned
 *       behind that peer → replay window updated → TAP write
 *   anything else (batches, handshakes, floods, ARP, new MACs, rekeys due, roaming, GSO) ─→ the
 *       reader calls JavaScript exactly as without a fast path
 *
 * Why: a ping crosses two gateways each way, and each crossing woke JavaScript through N-API:
 * ~30 µs of callback, handle scopes and data-path JS per packet, against OpenVPN's C loop
 * (slice-gateway/README.md). Batches keep going to JavaScript, where one call is amortised over
 * the batch and where segmentation and coalescing live.
 *
 * One truth: nothing here decides protocol state. JavaScript publishes what is routine — the
 * sessions that may be opened and sealed without the protocol's attention (each with its
 * deadline on this file's clock), and a mirror of its MAC table — and this file only follows
 * it. The replay window of a receiving session is the TypeScript ReplayWindow's own memory
 * (same layout, same algorithm: replay_*), so both paths see one window. The send counter of a
 * peer's session lives in `counters[slot]` while the session is published; JavaScript reads it
 * back before it seals anything itself. What happened here is added to `stats` (per peer slot:
 * bytes, packets, first and last times; globally: drops by reason), which JavaScript folds into
 * its timers and metrics; `stats[G_DIRTY]` says there is something to fold. A packet is handled
 * here completely or not at all: every check comes before the first change.
 *
 * Cost per packet: one hash lookup per MAC, one AEAD pass, one system call. No allocation.
 * Lifetime: the FastPath holds strong references to the keys and windows it was given, and
 * checks that a key was not destroyed before each use, so a stale entry can never touch freed
 * memory; it borrows the TAP and UDP fds, which must outlive it (the owner closes readers first).
 */
#include "fastpath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aead.h"
#include "common.h"

/* Must match native/fastpath.ts. */
#define SLOTS 64
#define FIELDS 9
enum { RX_BYTES, RX_PACKETS, RX_LAST, RX_DATA_FIRST, RX_DATA_LAST, TX_BYTES, TX_PACKETS, TX_FIRST, TX_LAST };
enum { G_DIRTY, G_RX, G_TX, G_TAP_FULL, G_TAP_REFUSED, G_UDP_FULL, G_UDP_REFUSED, G_DECRYPT_FAILED, GLOBALS };
#define STATS_LEN (SLOTS * FIELDS + GLOBALS)

#define MAX_RX 256
#define MAC_CAP 32768u /* a power of two, twice the forwarder's default table */
#define MAC_MAX 16384u
#define ETHER_HEADER 14
#define MSG_TRANSPORT 4

/* The replay window: protocol/replay.ts's, over the same 520 bytes. */
#define REPLAY_BYTES 520
#define RING_BLOCKS 128u
#define WINDOW ((RING_BLOCKS - 1) * 32u)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))

typedef struct {
  uint32_t index;
  uint32_t slot;
  aead_key *key;
  uint8_t *replay;
  napi_ref refs[2];
  uint32_t addr;
  uint16_t port;
  double until;
} rx_entry;

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

typedef struct {
  uint64_t mac; /* 48 bits; bit 63 set marks a used bucket */
  uint32_t slot;
  double seen;
} mac_entry;

#define MAC_USED (1ull << 63)

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
  mac_entry *macs;
  uint32_t nmacs;
  /* Room for the largest frame or datagram, after a virtio_net_hdr. */
  uint8_t out[sizeof(struct virtio_net_hdr) + 65536 + SN_AEAD_OVERHEAD];
};

static const napi_type_tag FAST_TAG = {0x736c6963656e6574ULL, 0x6661737470617468ULL};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint32_t get_le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t mac_at(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 6; i++) v = (v << 8) | p[i];
  return v;
}

/* ---- replay window (protocol/replay.ts): last counter (u64) at 0, 128 u32 blocks at 8 ---- */

static bool replay_may_accept(const uint8_t *w, uint64_t c) {
  uint64_t last;
  uint32_t block;
  memcpy(&last, w, 8);
  if (c >= REJECT_AFTER_MESSAGES) return false;
  if (c > last) return true;
  if (last - c > WINDOW) return false;
  memcpy(&block, w + 8 + 4 * ((c >> 5) & (RING_BLOCKS - 1)), 4);
  return (block & (1u << (c & 31))) == 0;
}

static bool replay_accept(uint8_t *w, uint64_t c) {
  if (!replay_may_accept(w, c)) return false;
  uint64_t last;
  memcpy(&last, w, 8);
  if (c > last) {
    uint64_t current = last >> 5, target = c >> 5;
    uint64_t steps = target - current > RING_BLOCKS ? RING_BLOCKS : target - current;
    for (uint64_t i = 1; i <= steps; i++) memset(w + 8 + 4 * ((current + i) & (RING_BLOCKS - 1)), 0, 4);
    memcpy(w, &c, 8);
  }
  uint8_t *slot = w + 8 + 4 * ((c >> 5) & (RING_BLOCKS - 1));
  uint32_t block;
  memcpy(&block, slot, 4);
  block |= 1u << (c & 31);
  memcpy(slot, &block, 4);
  return true;
}

/* ---- the MAC mirror: open addressing, linear probing, backward-shift deletion ---- */

static uint32_t mac_home(uint64_t mac) { return (uint32_t)((mac * 0x9E3779B97F4A7C15ull) >> 49) & (MAC_CAP - 1); }

static mac_entry *mac_find(fastpath *f, uint64_t mac) {
  for (uint32_t i = mac_home(mac);; i = (i + 1) & (MAC_CAP - 1)) {
    mac_entry *e = &f->macs[i];
    if (!(e->mac & MAC_USED)) return NULL;
    if (e->mac == (mac | MAC_USED)) return e;
  }
}

static bool mac_set(fastpath *f, uint64_t mac, uint32_t slot) {
  uint32_t i = mac_home(mac);
  for (; f->macs[i].mac & MAC_USED; i = (i + 1) & (MAC_CAP - 1))
    if (f->macs[i].mac == (mac | MAC_USED)) {
      f->macs[i].slot = slot;
      return true;
    }
  if (f->nmacs >= MAC_MAX) return false;
  f->macs[i] = (mac_entry){mac | MAC_USED, slot, 0};
  f->nmacs++;
  return true;
}

static void mac_delete(fastpath *f, uint64_t mac) {
  mac_entry *e = mac_find(f, mac);
  if (!e) return;
  uint32_t hole = (uint32_t)(e - f->macs);
  f->macs[hole].mac = 0;
  f->nmacs--;
  /* Move back every later entry of the run that may now be found earlier. */
  for (uint32_t i = (hole + 1) & (MAC_CAP - 1); f->macs[i].mac & MAC_USED; i = (i + 1) & (MAC_CAP - 1)) {
    uint32_t home = mac_home(f->macs[i].mac & ~MAC_USED);
    /* The entry stays if its home lies cyclically in (hole, i]. */
    bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays) continue;
    f->macs[hole] = f->macs[i];
    f->macs[i].mac = 0;
    hole = i;
  }
}

/* ---- the two paths ---- */

static rx_entry *rx_find(fastpath *f, uint32_t index) {
  for (uint32_t i = 0; i < f->nrx; i++)
    if (f->rx[i].index == index) return &f->rx[i];
  return NULL;
}

static void stamp(double *s, int first, int last, double now) {
  if (s[first] == 0) s[first] = now;
  s[last] = now;
}

bool sn_fast_tap(fastpath *f, const uint8_t *frame, uint32_t len) {
  if (f->hdr_len) {
    struct virtio_net_hdr h;
    memcpy(&h, frame - f->hdr_len, sizeof h);
    /* Super-frames and frames that still need a checksum are the Segmenter's (tx.ts). */
    if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE || (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return false;
  }
  if (len < ETHER_HEADER || len > f->max_frame || (frame[0] & 1) || (frame[6] & 1)) return false;
  mac_entry *src = mac_find(f, mac_at(frame + 6));
  mac_entry *dst = mac_find(f, mac_at(frame));
  if (!src || src->slot != 0 || !dst || dst->slot == 0) return false;
  tx_entry *t = &f->tx[dst->slot];
  double now = now_ms();
  uint64_t *ctr = &f->counters[dst->slot];
  if (!t->used || !sn_aead_live(t->key) || now >= t->until || *ctr >= t->limit) return false;
  if (!sn_aead_seal(t->key, t->remote, *ctr, frame, len, f->out)) return false;
  (*ctr)++;
  src->seen = dst->seen = now;
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(t->port), .sin_addr.s_addr = htonl(t->addr)};
  ssize_t r;
  do r = sendto(f->udp_fd, f->out, len + SN_AEAD_OVERHEAD, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
  while (r < 0 && errno == EINTR);
  double *g = f->stats + SLOTS * FIELDS;
  g[G_DIRTY] = 1;
  g[G_TX]++;
  if (r < 0) {
    g[errno == EAGAIN || errno == ENOBUFS ? G_UDP_FULL : G_UDP_REFUSED]++;
    return true;
  }
  double *s = f->stats + dst->slot * FIELDS;
  s[TX_BYTES] += len + SN_AEAD_OVERHEAD;
  s[TX_PACKETS]++;
  stamp(s, TX_FIRST, TX_LAST, now);
  return true;
}

bool sn_fast_udp(fastpath *f, const uint8_t *d, uint32_t len, uint32_t addr, uint16_t port) {
  /* A bad header is JavaScript's to count (unknown_type); only the AEAD's verdict is counted here. */
  if (len < SN_AEAD_OVERHEAD || len - SN_AEAD_OVERHEAD > f->max_frame || d[0] != MSG_TRANSPORT || d[1] || d[2] ||
      d[3])
    return false;
  rx_entry *e = rx_find(f, get_le32(d + 4));
  if (!e || e->addr != addr || e->port != port) return false;
  double now = now_ms();
  uint64_t counter = get_le64(d + 8);
  if (now >= e->until || !sn_aead_live(e->key) || !replay_may_accept(e->replay, counter)) return false;
  uint8_t *frame = f->out + f->hdr_len;
  double *g = f->stats + SLOTS * FIELDS;
  if (sn_aead_open(e->key, d, len, frame, &counter) != SN_OPEN_OK) {
    g[G_DIRTY] = 1;
    g[G_DECRYPT_FAILED]++;
    return true;
  }
  uint32_t m = len - SN_AEAD_OVERHEAD;
  mac_entry *src = NULL;
  if (m > 0) {
    /* A runt, a group source or a MAC not yet learned behind this peer: JavaScript's (it learns). */
    if (m < ETHER_HEADER || (frame[6] & 1)) return false;
    src = mac_find(f, mac_at(frame + 6));
    if (!src || src->slot != e->slot) return false;
  }
  replay_accept(e->replay, counter);
  g[G_DIRTY] = 1;
  g[G_RX]++;
  double *s = f->stats + e->slot * FIELDS;
  s[RX_BYTES] += len;
  s[RX_PACKETS]++;
  s[RX_LAST] = now;
  if (m == 0) return true; /* a keepalive */
  src->seen = now;
  stamp(s, RX_DATA_FIRST, RX_DATA_LAST, now);
  if (f->hdr_len) {
    struct virtio_net_hdr h = {.flags = f->hdr_flags};
    memcpy(f->out, &h, sizeof h);
  }
  ssize_t r;
  do r = write(f->tap_fd, f->out, m + f->hdr_len);
  while (r < 0 && errno == EINTR);
  if (r < 0) g[errno == EAGAIN ? G_TAP_FULL : G_TAP_REFUSED]++;
  return true;
}

/* ---- JavaScript's side: publishing, and the object's life ---- */

static void drop_ref(napi_env env, napi_ref *r) {
  if (*r) napi_delete_reference(env, *r);
  *r = NULL;
}

static void rx_clear(napi_env env, rx_entry *e) {
  drop_ref(env, &e->refs[0]);
  drop_ref(env, &e->refs[1]);
}

static void fast_clear(napi_env env, fastpath *f) {
  for (uint32_t i = 0; i < f->nrx; i++) rx_clear(env, &f->rx[i]);
  f->nrx = 0;
  for (int s = 0; s < SLOTS; s++) {
    drop_ref(env, &f->tx[s].ref);
    f->tx[s].used = false;
  }
  memset(f->macs, 0, MAC_CAP * sizeof *f->macs);
  f->nmacs = 0;
}

static void fast_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  fastpath *f = data;
  fast_clear(env, f);
  drop_ref(env, &f->stats_ref);
  drop_ref(env, &f->counters_ref);
  free(f->macs);
  free(f);
}

fastpath *sn_fast_unwrap(napi_env env, napi_value v) {
  bool tagged = false;
  void *f = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
      napi_check_object_type_tag(env, v, &FAST_TAG, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, v, &f) != napi_ok)
    return NULL;
  return f;
}

static fastpath *this_fast(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  napi_value self;
  if (!sn_args(env, info, want, argv, &self)) return NULL;
  fastpath *f = sn_fast_unwrap(env, self);
  if (!f) sn_throw_type(env, "not a FastPath");
  return f;
}

static bool slot_arg(napi_env env, napi_value v, uint32_t min, uint32_t *slot) {
  if (!sn_u32(env, v, "slot", slot)) return false;
  if (*slot < min || *slot >= SLOTS) {
    sn_throw_range(env, "slot must be in [%u, %d], got %u", min, SLOTS - 1, *slot);
    return false;
  }
  return true;
}

static bool key_arg(napi_env env, napi_value v, aead_key **k) {
  *k = sn_aead_key(env, v);
  if (!*k) sn_throw_type(env, "key must be an AeadKey");
  return *k != NULL;
}

static bool port_arg(napi_env env, napi_value v, uint16_t *port) {
  uint32_t p;
  if (!sn_u32(env, v, "port", &p)) return false;
  if (p == 0 || p > 65535) {
    sn_throw_range(env, "port must be in [1, 65535], got %u", p);
    return false;
  }
  *port = (uint16_t)p;
  return true;
}

static bool time_arg(napi_env env, napi_value v, double *t) {
  if (napi_get_value_double(env, v, t) != napi_ok || *t != *t) {
    sn_throw_type(env, "until must be a number (ms on FastPath.now()'s clock)");
    return false;
  }
  return true;
}

static bool mac_arg(napi_env env, napi_value v, uint64_t *mac) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d < 281474976710656.0) || d != (double)(uint64_t)d) {
    sn_throw_type(env, "mac must be an integer in [0, 2^48)");
    return false;
  }
  *mac = (uint64_t)d;
  return true;
}

/* key, addr, port, until: what a published session of either direction is given. */
typedef struct {
  aead_key *key;
  uint32_t addr;
  uint16_t port;
  double until;
} session_args;

static bool parse_session(napi_env env, napi_value *argv, session_args *a) {
  return key_arg(env, argv[0], &a->key) && sn_u32(env, argv[1], "addr", &a->addr) &&
         port_arg(env, argv[2], &a->port) && time_arg(env, argv[3], &a->until);
}

/* new FastPath(tapFd, vnetHdrLen, tapHdrFlags, udpFd, maxFrame, stats, counters) */
static napi_value fast_new(napi_env env, napi_callback_info info) {
  napi_value argv[7], self;
  int32_t tap_fd, udp_fd;
  uint32_t hdr_len, flags, max_frame;
  sn_view stats, counters;
  SN_TRY(sn_args(env, info, 7, argv, &self));
  SN_TRY(sn_i32(env, argv[0], "tapFd", &tap_fd));
  SN_TRY(sn_u32(env, argv[1], "vnetHdrLen", &hdr_len));
  SN_TRY(sn_u32(env, argv[2], "tapHdrFlags", &flags));
  SN_TRY(sn_i32(env, argv[3], "udpFd", &udp_fd));
  SN_TRY(sn_u32(env, argv[4], "maxFrame", &max_frame));
  SN_TRY(sn_typed(env, argv[5], "stats", napi_float64_array, &stats));
  SN_TRY(sn_typed(env, argv[6], "counters", napi_biguint64_array, &counters));
  if (tap_fd < 0 || udp_fd < 0) return sn_throw_errno(env, "FastPath", EBADF);
  if (hdr_len != 0 && hdr_len != sizeof(struct virtio_net_hdr))
    return sn_throw_range(env, "vnetHdrLen must be 0 or %zu", sizeof(struct virtio_net_hdr));
  if (flags > 255) return sn_throw_range(env, "tapHdrFlags must fit in a byte");
  if (max_frame < ETHER_HEADER || max_frame > 65535) return sn_throw_range(env, "maxFrame must be in [14, 65535]");
  if (stats.length != STATS_LEN) return sn_throw_range(env, "stats must have %d entries", STATS_LEN);
  if (counters.length != SLOTS) return sn_throw_range(env, "counters must have %d entries", SLOTS);
  fastpath *f = calloc(1, sizeof *f);
  if (f) f->macs = calloc(MAC_CAP, sizeof *f->macs);
  if (!f || !f->macs) {
    if (f) free(f);
    return sn_throw_errno(env, "FastPath", ENOMEM);
  }
  f->tap_fd = tap_fd;
  f->udp_fd = udp_fd;
  f->hdr_len = hdr_len;
  f->max_frame = max_frame;
  f->hdr_flags = (uint8_t)flags;
  f->stats = (double *)stats.data;
  f->counters = (uint64_t *)counters.data;
  if (napi_wrap(env, self, f, fast_finalize, NULL, NULL) != napi_ok) {
    free(f->macs);
    free(f);
    sn_throw_last(env);
    return NULL;
  }
  SN_CALL(env, napi_type_tag_object(env, self, &FAST_TAG));
  SN_CALL(env, napi_create_reference(env, argv[5], 1, &f->stats_ref));
  SN_CALL(env, napi_create_reference(env, argv[6], 1, &f->counters_ref));
  return self;
}

/* setRx(index, slot, key, addr, port, until, replayState) */
static napi_value fast_set_rx(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  fastpath *f = this_fast(env, info, 7, argv);
  SN_TRY(f);
  uint32_t index, slot;
  session_args a;
  sn_view replay;
  SN_TRY(sn_u32(env, argv[0], "index", &index));
  SN_TRY(slot_arg(env, argv[1], 1, &slot));
  SN_TRY(parse_session(env, argv + 2, &a));
  SN_TRY(sn_typed(env, argv[6], "replayState", napi_uint8_array, &replay));
  if (replay.bytes != REPLAY_BYTES) return sn_throw_range(env, "replayState must be %d bytes", REPLAY_BYTES);
  rx_entry *e = rx_find(f, index);
  if (!e) {
    if (f->nrx == MAX_RX) return sn_throw_range(env, "at most %d receiving sessions", MAX_RX);
    e = &f->rx[f->nrx++];
    *e = (rx_entry){0};
  }
  rx_clear(env, e);
  *e = (rx_entry){index, slot, a.key, replay.data, {NULL, NULL}, a.addr, a.port, a.until};
  SN_CALL(env, napi_create_reference(env, argv[2], 1, &e->refs[0]));
  SN_CALL(env, napi_create_reference(env, argv[6], 1, &e->refs[1]));
  return NULL;
}

/* deleteRx(index) */
static napi_value fast_delete_rx(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *f = this_fast(env, info, 1, argv);
  SN_TRY(f);
  uint32_t index;
  SN_TRY(sn_u32(env, argv[0], "index", &index));
  rx_entry *e = rx_find(f, index);
  if (e) {
    rx_clear(env, e);
    *e = f->rx[--f->nrx];
  }
  return NULL;
}

/* setTx(slot, key, addr, port, until, remoteIndex, limit) */
static napi_value fast_set_tx(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  fastpath *f = this_fast(env, info, 7, argv);
  SN_TRY(f);
  uint32_t slot, remote;
  session_args a;
  uint64_t limit;
  SN_TRY(slot_arg(env, argv[0], 1, &slot));
  SN_TRY(parse_session(env, argv + 1, &a));
  SN_TRY(sn_u32(env, argv[5], "remoteIndex", &remote));
  SN_TRY(sn_u64(env, argv[6], "limit", &limit));
  tx_entry *t = &f->tx[slot];
  drop_ref(env, &t->ref);
  *t = (tx_entry){true, a.key, NULL, remote, a.addr, a.port, a.until, limit};
  SN_CALL(env, napi_create_reference(env, argv[1], 1, &t->ref));
  return NULL;
}

/* deleteTx(slot) */
static napi_value fast_delete_tx(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *f = this_fast(env, info, 1, argv);
  SN_TRY(f);
  uint32_t slot;
  SN_TRY(slot_arg(env, argv[0], 1, &slot));
  drop_ref(env, &f->tx[slot].ref);
  f->tx[slot].used = false;
  return NULL;
}

/* setMac(mac, slot) -> false if the mirror is full (the MAC then stays JavaScript's) */
static napi_value fast_set_mac(napi_env env, napi_callback_info info) {
  napi_value argv[2], res;
  fastpath *f = this_fast(env, info, 2, argv);
  SN_TRY(f);
  uint64_t mac;
  uint32_t slot;
  SN_TRY(mac_arg(env, argv[0], &mac));
  SN_TRY(slot_arg(env, argv[1], 0, &slot));
  SN_CALL(env, napi_get_boolean(env, mac_set(f, mac, slot), &res));
  return res;
}

/* deleteMac(mac) */
static napi_value fast_delete_mac(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *f = this_fast(env, info, 1, argv);
  SN_TRY(f);
  uint64_t mac;
  SN_TRY(mac_arg(env, argv[0], &mac));
  mac_delete(f, mac);
  return NULL;
}

/* The mirror's entry for the MAC in argv[0] (NULL if none); false with an exception pending. */
static bool mac_lookup(napi_env env, napi_callback_info info, mac_entry **e) {
  napi_value argv[1];
  uint64_t mac;
  fastpath *f = this_fast(env, info, 1, argv);
  if (!f || !mac_arg(env, argv[0], &mac)) return false;
  *e = mac_find(f, mac);
  return true;
}

/* macSeen(mac) -> when the fast path last forwarded a frame from or to it, or -1 */
static napi_value fast_mac_seen(napi_env env, napi_callback_info info) {
  napi_value res;
  mac_entry *e;
  SN_TRY(mac_lookup(env, info, &e));
  SN_CALL(env, napi_create_double(env, e && e->seen > 0 ? e->seen : -1, &res));
  return res;
}

/* macSlot(mac) -> the slot the mirror has for `mac`, or -1 */
static napi_value fast_mac_slot(napi_env env, napi_callback_info info) {
  napi_value res;
  mac_entry *e;
  SN_TRY(mac_lookup(env, info, &e));
  SN_CALL(env, napi_create_int32(env, e ? (int32_t)e->slot : -1, &res));
  return res;
}

static napi_value fast_now(napi_env env, napi_callback_info info) {
  napi_value res;
  (void)info;
  SN_CALL(env, napi_create_double(env, now_ms(), &res));
  return res;
}

static napi_value fast_clear_js(napi_env env, napi_callback_info info) {
  fastpath *f = this_fast(env, info, 0, NULL);
  SN_TRY(f);
  fast_clear(env, f);
  return NULL;
}

/* replayAccept(replayState, counter) -> bool: the window's accept, for cross-testing with TypeScript. */
static napi_value replay_accept_js(napi_env env, napi_callback_info info) {
  napi_value argv[2], res;
  sn_view w;
  uint64_t c;
  SN_TRY(sn_args(env, info, 2, argv, NULL));
  SN_TRY(sn_typed(env, argv[0], "replayState", napi_uint8_array, &w));
  SN_TRY(sn_u64(env, argv[1], "counter", &c));
  if (w.bytes != REPLAY_BYTES) return sn_throw_range(env, "replayState must be %d bytes", REPLAY_BYTES);
  SN_CALL(env, napi_get_boolean(env, replay_accept(w.data, c), &res));
  return res;
}

bool sn_fast_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"setRx", NULL, fast_set_rx, NULL, NULL, NULL, napi_default_method, NULL},
      {"deleteRx", NULL, fast_delete_rx, NULL, NULL, NULL, napi_default_method, NULL},
      {"setTx", NULL, fast_set_tx, NULL, NULL, NULL, napi_default_method, NULL},
      {"deleteTx", NULL, fast_delete_tx, NULL, NULL, NULL, napi_default_method, NULL},
      {"setMac", NULL, fast_set_mac, NULL, NULL, NULL, napi_default_method, NULL},
      {"deleteMac", NULL, fast_delete_mac, NULL, NULL, NULL, napi_default_method, NULL},
      {"macSeen", NULL, fast_mac_seen, NULL, NULL, NULL, napi_default_method, NULL},
      {"macSlot", NULL, fast_mac_slot, NULL, NULL, NULL, napi_default_method, NULL},
      {"clear", NULL, fast_clear_js, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value ctor;
  napi_property_descriptor fns[] = {
      {"fastNow", NULL, fast_now, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replayAccept", NULL, replay_accept_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_class(env, "FastPath", NAPI_AUTO_LENGTH, fast_new, NULL, 9, methods, &ctor) == napi_ok &&
         napi_set_named_property(env, exports, "FastPath", ctor) == napi_ok &&
         napi_define_properties(env, exports, 2, fns) == napi_ok;
}
