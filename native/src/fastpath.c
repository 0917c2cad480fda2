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
 * Files: this one has the two paths; replay.h the window, macmirror.c the MAC mirror,
 * fastpath_js.c the publishing calls and the object's life, fastpath_state.h what they share.
 *
 * Cost per packet: one hash lookup per MAC, one AEAD pass, one system call. No allocation.
 * Lifetime: the FastPath holds strong references to the keys and windows it was given, and
 * checks that a key was not destroyed before each use, so a stale entry can never touch freed
 * memory; it borrows the TAP and UDP fds, which must outlive it (the owner closes readers first).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fastpath_state.h"
#include "replay.h"

#define MSG_TRANSPORT 4

static uint32_t get_le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
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
  mac_entry *src = mac_find(&f->macs, mac_at(frame + 6));
  mac_entry *dst = mac_find(&f->macs, mac_at(frame));
  if (!src || src->slot != 0 || !dst || dst->slot == 0) return false;
  tx_entry *t = &f->tx[dst->slot];
  double now = fast_now_ms();
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
  double now = fast_now_ms();
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
    src = mac_find(&f->macs, mac_at(frame + 6));
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
