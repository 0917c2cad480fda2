/*
 * UDP socket: open, and send datagrams in batches with sendmmsg and UDP segmentation offload.
 *
 *   sendBatch: datagram[i], dest[i] --group--> mmsghdr (one iovec per datagram, UDP_SEGMENT
 *              cmsg when a group has several) --sendmmsg, <= 64 messages a call--> kernel
 *
 * With GSO, consecutive datagrams to the same destination whose sizes are equal (the last may
 * be shorter) go as one message: the kernel builds one large skb and splits it at the very
 * end, so the stack runs once per group instead of once per datagram. Each datagram is still
 * its own UDP packet on the wire, never an IP fragment: the socket sets IP_PMTUDISC_DO so an
 * oversized datagram fails with EMSGSIZE instead of being fragmented.
 *
 * Nothing blocks (the fd is non-blocking): a full socket buffer (EAGAIN/ENOBUFS) ends the
 * call early. A datagram the kernel refuses (EMSGSIZE, ENETUNREACH, ...) is dropped and
 * counted so the rest of the batch goes out. If the kernel refuses GSO itself (EIO: the
 * route's device cannot checksum), GSO is switched off in ctl[0] and the batch is resent
 * without it. Cost: one system call per 64 messages, no allocation.
 */
#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Kernels since 4.18 accept 64 segments per GSO send (newer ones 128): use the lower. */
#define GSO_MAX_SEGMENTS 64
#define SEND_MSGS 64
#define SEND_IOVS 1024

/* udpOpen(address, port, wantGso, wantGro, bufBytes) -> { fd, port, gso, gro } */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  char addr[INET_ADDRSTRLEN];
  uint32_t port, buf_bytes;
  bool want_gso, want_gro;
  SN_TRY(sn_args(env, info, 5, argv, NULL));
  SN_TRY(sn_string(env, argv[0], "address", addr, sizeof addr));
  SN_TRY(sn_u32(env, argv[1], "port", &port));
  SN_TRY(sn_bool(env, argv[2], "gso", &want_gso));
  SN_TRY(sn_bool(env, argv[3], "gro", &want_gro));
  SN_TRY(sn_u32(env, argv[4], "bufBytes", &buf_bytes));
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
    return sn_throw_type(env, "address must be a dotted IPv4 address, got \"%s\"", addr);
  if (port > 65535) return sn_throw_range(env, "port must be in [0, 65535], got %u", port);
  sin.sin_port = htons((uint16_t)port);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sn_throw_errno(env, "socket", errno);
  int pmtu = IP_PMTUDISC_DO;
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) < 0) {
    int e = errno;
    close(fd);
    return sn_throw_errno(env, "IP_MTU_DISCOVER", e);
  }
  if (buf_bytes) {
    /* A burst of GRO super-datagrams overflows the default 208 KiB at once. The FORCE
     * variants pass net.core.[rw]mem_max with CAP_NET_ADMIN (the gateway has it); without
     * it the plain options apply, capped: best effort either way. */
    int b = (int)(buf_bytes > 0x3fffffff ? 0x3fffffff : buf_bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &b, sizeof b) < 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &b, sizeof b);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &b, sizeof b) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &b, sizeof b);
  }
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
    int e = errno;
    close(fd);
    return sn_throw_errno(env, "bind", e);
  }
  socklen_t sl = sizeof sin;
  getsockname(fd, (struct sockaddr *)&sin, &sl);
  /* Probes, not guesses: a kernel without the option answers ENOPROTOOPT. Setting the
   * default segment size to 0 leaves plain sends unchanged. */
  int zero = 0, one = 1;
  bool gso = want_gso && setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  bool gro = want_gro && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;

  napi_value res, v;
  if (napi_create_object(env, &res) != napi_ok || napi_create_int32(env, fd, &v) != napi_ok ||
      napi_set_named_property(env, res, "fd", v) != napi_ok ||
      napi_create_uint32(env, ntohs(sin.sin_port), &v) != napi_ok ||
      napi_set_named_property(env, res, "port", v) != napi_ok || napi_get_boolean(env, gso, &v) != napi_ok ||
      napi_set_named_property(env, res, "gso", v) != napi_ok || napi_get_boolean(env, gro, &v) != napi_ok ||
      napi_set_named_property(env, res, "gro", v) != napi_ok) {
    close(fd);
    sn_throw_last(env);
    return NULL;
  }
  return res;
}

/* sendBatch(fd, ctl, buf, offsets, lengths, start, end, addrs, ports) -> next index.
 * ctl (Int32Array(4)): [0] GSO on (in/out), [1] datagrams dropped by this call (out),
 * [2] errno of the last drop (out), [3] sendmmsg calls made (out). */
static napi_value send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int fd;
  uint32_t start, end;
  sn_view ctl, buf, off, len, addrs, ports;
  SN_TRY(sn_args(env, info, 9, argv, NULL));
  SN_TRY(sn_fd(env, argv[0], &fd));
  SN_TRY(sn_typed(env, argv[1], "ctl", napi_int32_array, &ctl));
  SN_TRY(sn_bytes(env, argv[2], "buf", &buf));
  SN_TRY(sn_typed(env, argv[3], "offsets", napi_uint32_array, &off));
  SN_TRY(sn_typed(env, argv[4], "lengths", napi_uint32_array, &len));
  SN_TRY(sn_u32(env, argv[5], "start", &start));
  SN_TRY(sn_u32(env, argv[6], "end", &end));
  SN_TRY(sn_typed(env, argv[7], "addrs", napi_uint32_array, &addrs));
  SN_TRY(sn_typed(env, argv[8], "ports", napi_uint16_array, &ports));
  if (ctl.length < 4) return sn_throw_range(env, "ctl must have 4 entries");
  const uint32_t *o = (const uint32_t *)off.data, *l = (const uint32_t *)len.data;
  const uint32_t *ad = (const uint32_t *)addrs.data;
  const uint16_t *pt = (const uint16_t *)ports.data;
  size_t n = off.length < len.length ? off.length : len.length;
  SN_TRY(sn_check_ranges(env, "sendBatch", &buf, o, l, n, start, end, SN_MAX_DATAGRAM));
  if (end > addrs.length || end > ports.length)
    return sn_throw_range(env, "sendBatch: addrs/ports have fewer than %u entries", end);

  int32_t *c = (int32_t *)ctl.data;
  c[1] = c[2] = c[3] = 0;
  struct mmsghdr msgs[SEND_MSGS];
  struct iovec iov[SEND_IOVS];
  struct sockaddr_in names[SEND_MSGS];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl[SEND_MSGS];
  uint32_t first[SEND_MSGS], last[SEND_MSGS];
  uint32_t plain_until = start; /* datagrams before this index are sent without GSO */
  uint32_t i = start;

  while (i < end) {
    int m = 0, niov = 0;
    uint32_t k = i;
    while (k < end && m < SEND_MSGS && niov < SEND_IOVS) {
      uint32_t j = k + 1, total = l[k];
      if (c[0] && k >= plain_until && l[k] > 0) {
        /* Grow the group while the destination matches, each earlier datagram is full size,
         * and the whole stays a legal UDP payload. */
        while (j < end && j - k < GSO_MAX_SEGMENTS && niov + (int)(j - k) < SEND_IOVS && ad[j] == ad[k] &&
               pt[j] == pt[k] && l[j] > 0 && l[j] <= l[k] && l[j - 1] == l[k] &&
               total + l[j] <= SN_MAX_DATAGRAM) {
          total += l[j];
          j++;
        }
      }
      struct msghdr *h = &msgs[m].msg_hdr;
      memset(h, 0, sizeof *h);
      memset(&names[m], 0, sizeof names[m]);
      names[m].sin_family = AF_INET;
      names[m].sin_addr.s_addr = htonl(ad[k]);
      names[m].sin_port = htons(pt[k]);
      h->msg_name = &names[m];
      h->msg_namelen = sizeof names[m];
      h->msg_iov = &iov[niov];
      h->msg_iovlen = j - k;
      for (uint32_t x = k; x < j; x++) iov[niov++] = (struct iovec){buf.data + o[x], l[x]};
      if (j - k > 1) {
        h->msg_control = ctrl[m].buf;
        h->msg_controllen = sizeof ctrl[m].buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(h);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        uint16_t seg = (uint16_t)l[k];
        memcpy(CMSG_DATA(cm), &seg, sizeof seg);
      }
      first[m] = k;
      last[m] = j;
      m++;
      k = j;
    }
    c[3]++;
    int sent = sendmmsg(fd, msgs, (unsigned)m, MSG_DONTWAIT);
    if (sent > 0) {
      i = last[sent - 1];
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN || e == ENOBUFS) break;
    if (e == EBADF || e == ENOTSOCK || e == EFAULT) return sn_throw_errno(env, "sendBatch", e);
    if (last[0] - first[0] > 1) {
      if (e == EIO) c[0] = 0; /* the kernel cannot do GSO on this route: stop asking */
      /* Resend the group one datagram at a time, so only the bad ones are dropped. */
      plain_until = last[0];
      continue;
    }
    c[1]++;
    c[2] = e;
    i = last[0];
  }
  return sn_u32_value(env, i);
}

bool sn_udp_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 2, fns) == napi_ok;
}
