/*
 * Opened frames → TCPv4 super-frames before they go to the TAP (receive-side GRO, the mirror of
 * gso.c): the receiving gateway writes one frame per run of a flow's segments instead of one per
 * segment, so the TAP write, the bridge, the pod's veth and its TCP stack each see one skb.
 *
 *   opened frames f[start..end) ─pass 1: group─→ runs of one flow's consecutive segments
 *                               ─pass 2: write─→ [virtio_net_hdr ‖ frame] items, in source order
 *     a run of ≥ 2 segments → headers of its first, payloads appended; IP total length and header
 *                             checksum redone; TCP checksum left as the pseudo-header sum for
 *                             the kernel (F_NEEDS_CSUM); gso_type TCPV4, gso_size = the run's MSS
 *     anything else         → copied unchanged, with a plain header (flags: ctl[C_FLAGS])
 *
 * Which segments join a run (what Linux's tcp4_gro_receive asks, made stricter): IPv4 without
 * options and not a fragment, TCP with ACK and nothing but ACK/PSH set, a payload; the same
 * Ethernet header, TOS, TTL, DF, addresses, ports, ack, window and TCP options as the run;
 * seq = the run's next; every earlier segment of the run exactly the run's MSS and this one at
 * most that; a PSH ends the run; at most 65535 bytes of IP packet. A flow's other frames (a pure
 * ACK, a FIN, an out-of-order segment) end its run, so no frame passes another of its flow.
 * Runs of up to GRO_FLOWS flows are open at once (several streams interleave in one batch).
 *
 * The frames come out of AEAD open: authenticated end to end, so handing the kernel a partial
 * checksum loses nothing the inner checksums would have caught. Nothing is read past a frame's
 * length; the source is never modified; the caller sizes dst (see groCoalesce below).
 */
#include "gro.h"

#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common.h"
#include "packet.h"

#define ETH_LEN 14
#define IP_LEN 20
#define VNET_LEN ((uint32_t)sizeof(struct virtio_net_hdr))
#define ALIGN8(x) (((x) + 7u) & ~7u)
#define MAX_IP_PACKET 65535u
#define GRO_FLOWS 8
#define CHUNK 1024
#define TCP_PSH 0x08
#define TCP_ACK 0x10

enum { C_ITEM, C_BYTE, C_FLAGS, C_MERGED, C_SUPER };

/* A segment that may join a run: its TCP header length and payload, or false. */
static bool segment(const uint8_t *f, uint32_t len, uint32_t *thl, uint32_t *payload) {
  if (len < ETH_LEN + IP_LEN + 20 || get16(f + 12) != 0x0800) return false;
  const uint8_t *ip = f + ETH_LEN;
  if (ip[0] != 0x45 || ip[9] != IPPROTO_TCP || (get16(ip + 6) & 0xbfff)) return false;
  if (get16(ip + 2) != len - ETH_LEN) return false; /* padded or truncated: leave it alone */
  const uint8_t *th = ip + IP_LEN;
  *thl = (uint32_t)(th[12] >> 4) * 4;
  if (*thl < 20 || len < ETH_LEN + IP_LEN + *thl) return false;
  if ((th[13] & ~TCP_PSH) != TCP_ACK) return false;
  *payload = len - ETH_LEN - IP_LEN - *thl;
  return *payload > 0;
}

/* Same flow: Ethernet header, IPv4 addresses and protocol, ports. Both frames are IPv4/TCP. */
static bool same_flow(const uint8_t *a, const uint8_t *b) {
  return memcmp(a, b, ETH_LEN) == 0 && memcmp(a + ETH_LEN + 12, b + ETH_LEN + 12, 8) == 0 &&
         memcmp(a + ETH_LEN + IP_LEN, b + ETH_LEN + IP_LEN, 4) == 0;
}

/* Whether frame b may continue a run headed by a (same flow already known). */
static bool same_headers(const uint8_t *a, const uint8_t *b, uint32_t thl) {
  const uint8_t *ia = a + ETH_LEN, *ib = b + ETH_LEN;
  const uint8_t *ta = ia + IP_LEN, *tb = ib + IP_LEN;
  return ia[1] == ib[1] && ia[8] == ib[8] && ia[6] == ib[6] && (ta[12] >> 4) * 4u == thl &&
         memcmp(ta + 8, tb + 8, 4) == 0 &&                 /* ack */
         memcmp(ta + 14, tb + 14, 2) == 0 &&               /* window */
         memcmp(ta + 20, tb + 20, thl - 20) == 0;          /* options */
}

typedef struct {
  uint32_t head;     /* source index of the run's first frame */
  uint32_t tail;     /* source index of its latest frame */
  uint32_t next_seq; /* the seq that may come next */
  uint32_t bytes;    /* IP packet length so far */
  uint16_t mss, last, thl;
  bool open;
} run_t;

typedef struct {
  const uint8_t *buf;
  const uint32_t *off, *len;
} src_t;

/*
 * Pass 1 over one chunk: link[i] is the next frame of frame i's run (UINT32_MAX: none);
 * head[i] says whether frame i starts an output item.
 */
static void group(const src_t *s, uint32_t from, uint32_t to, uint32_t *link, bool *head, uint32_t *segs) {
  run_t runs[GRO_FLOWS];
  memset(runs, 0, sizeof runs);
  uint32_t victim = 0;
  for (uint32_t i = from; i < to; i++) {
    const uint8_t *f = s->buf + s->off[i];
    uint32_t len = s->len[i], thl = 0, payload = 0;
    link[i - from] = UINT32_MAX;
    head[i - from] = true;
    segs[i - from] = 1;
    bool seg = segment(f, len, &thl, &payload);
    bool tcp = seg || (len >= ETH_LEN + IP_LEN + 20 && get16(f + 12) == 0x0800 &&
                       (f[ETH_LEN] & 0x0f) == 5 && f[ETH_LEN + 9] == IPPROTO_TCP);
    if (!tcp) continue;
    run_t *r = NULL;
    for (int k = 0; k < GRO_FLOWS && !r; k++)
      if (runs[k].open && same_flow(s->buf + s->off[runs[k].head], f)) r = &runs[k];
    if (r && seg) {
      const uint8_t *h = s->buf + s->off[r->head];
      uint32_t seq = get32(f + ETH_LEN + IP_LEN + 4);
      if (r->last == r->mss && payload <= r->mss && seq == r->next_seq && thl == r->thl &&
          r->bytes + payload <= MAX_IP_PACKET && same_headers(h, f, thl)) {
        link[r->tail - from] = i;
        head[i - from] = false;
        segs[r->head - from]++;
        r->tail = i;
        r->next_seq = seq + payload;
        r->bytes += payload;
        r->last = (uint16_t)payload;
        if (f[ETH_LEN + IP_LEN + 13] & TCP_PSH) r->open = false;
        continue;
      }
    }
    /* Not joined: this frame ends its flow's run; a segment starts the next one. */
    if (!seg) {
      if (r) r->open = false;
      continue;
    }
    if (!r) {
      r = &runs[victim];
      victim = (victim + 1) % GRO_FLOWS;
    }
    r->head = r->tail = i;
    r->next_seq = get32(f + ETH_LEN + IP_LEN + 4) + payload;
    r->bytes = len - ETH_LEN;
    r->mss = r->last = (uint16_t)payload;
    r->thl = (uint16_t)thl;
    r->open = !(f[ETH_LEN + IP_LEN + 13] & TCP_PSH);
  }
}

/* Pass 2 for one run of ≥ 2 segments starting at source frame i: one super-frame at d. */
static uint32_t write_run(const src_t *s, uint32_t i, const uint32_t *link, uint32_t from, uint8_t *d) {
  const uint8_t *f = s->buf + s->off[i];
  uint32_t thl = (uint32_t)(f[ETH_LEN + IP_LEN + 12] >> 4) * 4;
  uint32_t hdrs = ETH_LEN + IP_LEN + thl;
  uint8_t *frame = d + VNET_LEN;
  memcpy(frame, f, hdrs);
  uint32_t at = hdrs;
  uint8_t flags = 0;
  for (uint32_t j = i; j != UINT32_MAX; j = link[j - from]) {
    const uint8_t *g = s->buf + s->off[j];
    memcpy(frame + at, g + hdrs, s->len[j] - hdrs);
    at += s->len[j] - hdrs;
    flags |= g[ETH_LEN + IP_LEN + 13];
  }
  uint8_t *ip = frame + ETH_LEN, *th = ip + IP_LEN;
  put16(ip + 2, (uint16_t)(at - ETH_LEN));
  ip[10] = ip[11] = 0;
  uint16_t ipsum = csum(sum_bytes(0, ip, IP_LEN));
  memcpy(ip + 10, &ipsum, 2);
  th[13] = flags;
  /* CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the kernel adds the rest if it
   * ever needs the full checksum (e.g. the super-frame is segmented again on its way). */
  uint64_t pseudo = sum_bytes(0, ip + 12, 8) + htons(IPPROTO_TCP) + htons((uint16_t)(at - ETH_LEN - IP_LEN));
  uint16_t partial = csum_fold(pseudo);
  memcpy(th + 16, &partial, 2);
  struct virtio_net_hdr h;
  memset(&h, 0, sizeof h);
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h.hdr_len = (uint16_t)hdrs;
  h.gso_size = (uint16_t)(s->len[i] - hdrs);
  h.csum_start = ETH_LEN + IP_LEN;
  h.csum_offset = 16;
  memcpy(d, &h, sizeof h);
  return at;
}

/*
 * groCoalesce(src, srcOffsets, srcLengths, start, end, dst, dstOffsets, dstLengths, ctl) -> items
 * Frames src[off[i], +len[i]) for start ≤ i < end become items appended at dst item ctl[C_ITEM],
 * byte ctl[C_BYTE]: item k is the frame dst[dstOffsets[k], +dstLengths[k]) with its 10-byte
 * virtio_net_hdr just before it. dst must hold Σ ALIGN8(10 + len[i]) bytes past ctl[C_BYTE] and
 * end − start items past ctl[C_ITEM] (coalescing only shrinks). ctl[C_FLAGS] in: the flags of
 * a plain item's header (0 or F_DATA_VALID). Adds to ctl[C_MERGED] the segments that joined a
 * run and to ctl[C_SUPER] the super-frames written.
 */
static napi_value gro_coalesce(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  sn_view src, soff, slen, dst, doff, dlen, ctl;
  uint32_t start, end;
  SN_TRY(sn_args(env, info, 9, argv, NULL));
  SN_TRY(sn_bytes(env, argv[0], "src", &src));
  SN_TRY(sn_typed(env, argv[1], "srcOffsets", napi_uint32_array, &soff));
  SN_TRY(sn_typed(env, argv[2], "srcLengths", napi_uint32_array, &slen));
  SN_TRY(sn_u32(env, argv[3], "start", &start));
  SN_TRY(sn_u32(env, argv[4], "end", &end));
  SN_TRY(sn_bytes(env, argv[5], "dst", &dst));
  SN_TRY(sn_typed(env, argv[6], "dstOffsets", napi_uint32_array, &doff));
  SN_TRY(sn_typed(env, argv[7], "dstLengths", napi_uint32_array, &dlen));
  SN_TRY(sn_typed(env, argv[8], "ctl", napi_int32_array, &ctl));
  const uint32_t *so = (const uint32_t *)soff.data, *sl = (const uint32_t *)slen.data;
  size_t n = soff.length < slen.length ? soff.length : slen.length;
  SN_TRY(sn_check_ranges(env, "groCoalesce", &src, so, sl, n, start, end, 65535));
  if (ctl.length < 5) return sn_throw_range(env, "ctl must have 5 entries");
  int32_t *c = (int32_t *)ctl.data;
  if (c[C_FLAGS] != 0 && c[C_FLAGS] != VIRTIO_NET_HDR_F_DATA_VALID)
    return sn_throw_range(env, "ctl[2] (plain header flags) must be 0 or %d", VIRTIO_NET_HDR_F_DATA_VALID);
  size_t items = doff.length < dlen.length ? doff.length : dlen.length;
  if (c[C_ITEM] < 0 || c[C_BYTE] < 0 || (size_t)c[C_ITEM] > items || (size_t)c[C_BYTE] > dst.bytes)
    return sn_throw_range(env, "ctl[0..1] (next item, next byte) must lie inside dst");
  uint32_t item = (uint32_t)c[C_ITEM], byte = (uint32_t)c[C_BYTE];
  uint64_t need = 0;
  for (uint32_t i = start; i < end; i++) need += ALIGN8(VNET_LEN + sl[i]);
  if (item + (uint64_t)(end - start) > items || byte + need > dst.bytes)
    return sn_throw_range(env, "groCoalesce: dst needs %u items and %llu bytes past ctl[0..1]", end - start,
                          (unsigned long long)need);

  src_t s = {src.data, so, sl};
  uint32_t link[CHUNK], segs[CHUNK];
  bool head[CHUNK];
  uint32_t *dof = (uint32_t *)doff.data, *dle = (uint32_t *)dlen.data;
  for (uint32_t from = start; from < end; from += CHUNK) {
    uint32_t to = end - from > CHUNK ? from + CHUNK : end;
    group(&s, from, to, link, head, segs);
    for (uint32_t i = from; i < to; i++) {
      if (!head[i - from]) continue;
      uint8_t *d = dst.data + byte;
      uint32_t flen;
      if (segs[i - from] > 1) {
        flen = write_run(&s, i, link, from, d);
        c[C_MERGED] += (int32_t)segs[i - from];
        c[C_SUPER]++;
      } else {
        struct virtio_net_hdr h;
        memset(&h, 0, sizeof h);
        h.flags = (uint8_t)c[C_FLAGS];
        memcpy(d, &h, sizeof h);
        flen = sl[i];
        memcpy(d + VNET_LEN, src.data + so[i], flen);
      }
      dof[item] = byte + VNET_LEN;
      dle[item] = flen;
      item++;
      byte += ALIGN8(VNET_LEN + flen);
    }
  }
  c[C_ITEM] = (int32_t)item;
  c[C_BYTE] = (int32_t)byte;
  return sn_u32_value(env, item);
}

bool sn_gro_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"groCoalesce", NULL, gro_coalesce, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 1, fns) == napi_ok;
}
