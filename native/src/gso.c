/*
 * TAP super-frames → MTU-sized frames, before sealing (issue 5: fewer, larger units through the
 * kernel, yet nothing over the WAN MTU and no IP fragment).
 *
 *   TapReader batch: [virtio_net_hdr ‖ frame] ×N
 *     gso_type TCPV4 (±ECN)  → ceil(payload / gso_size) segments: Ethernet+IP+TCP headers copied,
 *                              IP total length, id (+k), header checksum; TCP seq (+k·gso_size),
 *                              FIN/PSH on the last only, CWR on the first only; TCP checksum in full
 *     gso_type NONE          → the frame copied; with F_NEEDS_CSUM its checksum finished at
 *                              csum_start/csum_offset (any protocol: TCP, UDP, IPv6 …)
 *     anything else          → dropped and counted (UDP/USO/TSO6 are never enabled on the TAP)
 *   → output batch (8-byte aligned items) + first[i]: index of source frame i's first segment.
 *
 * Why here: with TUN_F_TSO4 the kernel hands the TAP one ≤ 64 KiB frame where it would have
 * handed ~46 MTU frames, each with its own read(), skb and bridge pass. Splitting costs one copy
 * and one checksum pass per byte in C (no allocation, nothing blocks); the segments then go to
 * sealBatch and one sendmmsg with UDP GSO like any other frames.
 *
 * Safety: every header field is checked against the frame's real length before it is used; a
 * frame that lies (short headers, csum_start past the end, gso_size 0, not IPv4/TCP, an IP
 * fragment) is dropped and counted, never read past. The source is never modified.
 */
#include "gso.h"

#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "common.h"
#include "packet.h"

#define ETH_LEN 14
#define ALIGN8(x) (((x) + 7u) & ~7u)
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

enum { C_ITEM, C_BYTE, C_NEXT, C_MALFORMED, C_OVERSIZE, C_UNSUPPORTED, C_SEGMENTED, C_CSUM };

/* Where the IPv4 header starts: after Ethernet and at most one 802.1Q/802.1ad tag; 0 if not IPv4. */
static uint32_t ipv4_offset(const uint8_t *f, uint32_t len) {
  uint16_t type = get16(f + 12);
  uint32_t at = ETH_LEN;
  if (type == 0x8100 || type == 0x88a8) {
    if (len < ETH_LEN + 4) return 0;
    type = get16(f + 16);
    at += 4;
  }
  return type == 0x0800 ? at : 0;
}

typedef struct {
  uint8_t *dst;
  size_t dst_bytes;
  uint32_t *off, *len;
  size_t items;
  uint32_t max_frame;
} out_t;

/* Finishes a CHECKSUM_PARTIAL frame in place: the field holds the pseudo-header sum already. */
static bool finish_csum(uint8_t *f, uint32_t len, uint16_t start, uint16_t offset) {
  if ((uint32_t)start + offset + 2 > len) return false;
  uint16_t s = csum(sum_bytes(0, f + start, len - start));
  if (s == 0) s = 0xffff; /* a UDP checksum of 0 means "none"; for TCP both are the same */
  memcpy(f + start + offset, &s, 2);
  return true;
}

/* Splits one TCPv4 super-frame: 0 when written, -1 when the output is full (nothing written),
 * else the C_ counter of the drop. */
static int split_tcp4(out_t *o, const uint8_t *f, uint32_t len, uint16_t gso_size, uint32_t *item,
                      uint32_t *byte) {
  uint32_t l3 = ipv4_offset(f, len);
  if (!l3 || len < l3 + 20) return C_MALFORMED;
  const uint8_t *ip = f + l3;
  uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_TCP || (get16(ip + 6) & 0x3fff)) return C_MALFORMED;
  uint32_t l4 = l3 + ihl;
  if (len < l4 + 20) return C_MALFORMED;
  uint32_t thl = (uint32_t)(f[l4 + 12] >> 4) * 4;
  uint32_t hdrs = l4 + thl;
  if (thl < 20 || len < hdrs || gso_size == 0) return C_MALFORMED;
  uint32_t payload = len - hdrs;
  uint32_t seg = payload < gso_size ? payload : gso_size;
  uint32_t nseg = payload ? (payload + gso_size - 1) / gso_size : 1;
  if (hdrs + seg > o->max_frame) return C_OVERSIZE;
  /* All or nothing: a frame's segments never straddle two calls. */
  uint64_t need = (uint64_t)nseg * ALIGN8(hdrs + seg);
  if (*item + nseg > o->items || *byte + need > o->dst_bytes) return -1;

  uint16_t id0 = get16(ip + 4);
  uint32_t seq0;
  memcpy(&seq0, f + l4 + 4, 4);
  seq0 = ntohl(seq0);
  uint8_t flags0 = f[l4 + 13];
  uint64_t pseudo = 0;
  pseudo = sum_bytes(pseudo, ip + 12, 8); /* source and destination addresses */
  pseudo += htons(IPPROTO_TCP);
  for (uint32_t k = 0; k < nseg; k++) {
    uint32_t at = k * gso_size;
    uint32_t n = payload - at < gso_size ? payload - at : gso_size;
    if (!payload) n = 0;
    uint8_t *d = o->dst + *byte;
    memcpy(d, f, hdrs);
    memcpy(d + hdrs, f + hdrs + at, n);
    uint8_t *dip = d + l3, *th = d + l4;
    put16(dip + 2, (uint16_t)(ihl + thl + n));
    put16(dip + 4, (uint16_t)(id0 + k));
    dip[10] = dip[11] = 0;
    uint16_t ipsum = csum(sum_bytes(0, dip, ihl));
    memcpy(dip + 10, &ipsum, 2);
    uint32_t seq = htonl(seq0 + at);
    memcpy(th + 4, &seq, 4);
    uint8_t fl = flags0;
    if (k + 1 < nseg) fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
    if (k > 0) fl &= (uint8_t)~TCP_CWR;
    th[13] = fl;
    th[16] = th[17] = 0;
    uint16_t tcplen = (uint16_t)(thl + n);
    uint16_t s = csum(sum_bytes(pseudo + htons(tcplen), th, tcplen));
    memcpy(th + 16, &s, 2);
    o->off[*item] = *byte;
    o->len[*item] = hdrs + n;
    (*item)++;
    *byte += ALIGN8(hdrs + n);
  }
  return 0;
}

/*
 * gsoSplit(src, srcOffsets, srcLengths, start, end, dst, dstOffsets, dstLengths, first, maxFrame, ctl)
 *   -> items written in total (= ctl[C_ITEM])
 * Source frame i (start ≤ i < end) is src[off[i], +len[i]) with its 10-byte virtio_net_hdr at
 * off[i] − 10. Output items are appended from ctl[C_ITEM] at byte ctl[C_BYTE]; first[i] gets the
 * index of frame i's first output item (first[i+1] − first[i] items; 0 when dropped), first[end]
 * the total. Stops before the first frame whose segments do not all fit: ctl[C_NEXT] is where to
 * resume (end when done). Counts are added to ctl[C_MALFORMED..C_CSUM].
 */
static napi_value gso_split(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  sn_view src, soff, slen, dst, doff, dlen, first, ctl;
  uint32_t start, end, max_frame;
  SN_TRY(sn_args(env, info, 11, argv, NULL));
  SN_TRY(sn_bytes(env, argv[0], "src", &src));
  SN_TRY(sn_typed(env, argv[1], "srcOffsets", napi_uint32_array, &soff));
  SN_TRY(sn_typed(env, argv[2], "srcLengths", napi_uint32_array, &slen));
  SN_TRY(sn_u32(env, argv[3], "start", &start));
  SN_TRY(sn_u32(env, argv[4], "end", &end));
  SN_TRY(sn_bytes(env, argv[5], "dst", &dst));
  SN_TRY(sn_typed(env, argv[6], "dstOffsets", napi_uint32_array, &doff));
  SN_TRY(sn_typed(env, argv[7], "dstLengths", napi_uint32_array, &dlen));
  SN_TRY(sn_typed(env, argv[8], "first", napi_uint32_array, &first));
  SN_TRY(sn_u32(env, argv[9], "maxFrame", &max_frame));
  SN_TRY(sn_typed(env, argv[10], "ctl", napi_int32_array, &ctl));
  const uint32_t *so = (const uint32_t *)soff.data, *sl = (const uint32_t *)slen.data;
  size_t n = soff.length < slen.length ? soff.length : slen.length;
  SN_TRY(sn_check_ranges(env, "gsoSplit", &src, so, sl, n, start, end, 65535));
  if (ctl.length < 8) return sn_throw_range(env, "ctl must have 8 entries");
  if (first.length < (size_t)end + 1) return sn_throw_range(env, "first needs end + 1 = %u entries", end + 1);
  if (max_frame < ETH_LEN || max_frame > 65535) return sn_throw_range(env, "maxFrame must be in [14, 65535]");
  for (uint32_t i = start; i < end; i++)
    if (so[i] < sizeof(struct virtio_net_hdr))
      return sn_throw_range(env, "gsoSplit: item %u has no room for its virtio_net_hdr before offset %u", i, so[i]);
  int32_t *c = (int32_t *)ctl.data;
  uint32_t item = (uint32_t)c[C_ITEM], byte = (uint32_t)c[C_BYTE];
  size_t items = doff.length < dlen.length ? doff.length : dlen.length;
  if (c[C_ITEM] < 0 || c[C_BYTE] < 0 || item > items || byte > dst.bytes)
    return sn_throw_range(env, "ctl[0..1] (next item, next byte) must lie inside dst");
  out_t o = {dst.data, dst.bytes, (uint32_t *)doff.data, (uint32_t *)dlen.data, items, max_frame};
  uint32_t *fi = (uint32_t *)first.data;
  uint32_t i = start;
  for (; i < end; i++) {
    const uint8_t *f = src.data + so[i];
    uint32_t len = sl[i];
    struct virtio_net_hdr h;
    memcpy(&h, f - sizeof h, sizeof h);
    fi[i] = item;
    int r;
    uint8_t type = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (len < ETH_LEN) {
      r = C_MALFORMED;
    } else if (type == VIRTIO_NET_HDR_GSO_TCPV4) {
      r = split_tcp4(&o, f, len, h.gso_size, &item, &byte);
      if (r == 0) c[C_SEGMENTED]++;
    } else if (type != VIRTIO_NET_HDR_GSO_NONE) {
      r = C_UNSUPPORTED;
    } else if (len > max_frame) {
      r = C_OVERSIZE;
    } else if (item >= items || byte + ALIGN8(len) > dst.bytes) {
      r = -1;
    } else {
      uint8_t *d = dst.data + byte;
      memcpy(d, f, len);
      r = 0;
      if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (finish_csum(d, len, h.csum_start, h.csum_offset)) c[C_CSUM]++;
        else r = C_MALFORMED;
      }
      if (r == 0) {
        o.off[item] = byte;
        o.len[item] = len;
        item++;
        byte += ALIGN8(len);
      }
    }
    if (r < 0) break;
    if (r > 0) c[r]++;
  }
  fi[i] = item;
  c[C_ITEM] = (int32_t)item;
  c[C_BYTE] = (int32_t)byte;
  c[C_NEXT] = (int32_t)i;
  return sn_u32_value(env, item);
}

bool sn_gso_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"gsoSplit", NULL, gso_split, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 1, fns) == napi_ok;
}
