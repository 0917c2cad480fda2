/*
 * TAP device: open, and write frames in batches.
 *
 *   writeFrames: frame[i] --(writev [zero virtio_net_hdr] + frame)--> /dev/net/tun fd, i = start..end
 *
 * The fd is non-blocking, so nothing here blocks: a full TAP queue (EAGAIN) ends the call
 * early and the caller decides whether to retry or drop. Cost per frame: one writev system
 * call, no allocation. A frame the kernel refuses (too short, link down) is dropped and
 * counted so the rest of the batch still goes out; only a bad fd throws.
 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

/* tapOpen(name, vnetHdr, offloads) -> { fd, name, vnetHdrLen } */
static napi_value tap_open(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char name[IFNAMSIZ];
  bool vnet;
  uint32_t offloads;
  SN_TRY(sn_args(env, info, 3, argv, NULL));
  SN_TRY(sn_string(env, argv[0], "name", name, sizeof name));
  SN_TRY(sn_bool(env, argv[1], "vnetHdr", &vnet));
  SN_TRY(sn_u32(env, argv[2], "offloads", &offloads));
  if (name[0] == '\0') return sn_throw_range(env, "name must not be empty");
  /* Offloads hand us frames that need a checksum or segmentation: only the virtio_net_hdr
   * in front of each frame says so, so they make no sense without it. */
  if (offloads && !vnet) return sn_throw_range(env, "offloads need vnetHdr");
  if (offloads & ~(uint32_t)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO | 0x20 | 0x40))
    return sn_throw_range(env, "offloads has unknown bits: 0x%x", offloads);

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return sn_throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, strlen(name));
  int hdr_len = sizeof(struct virtio_net_hdr);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return sn_throw_errno(env, "TUNSETIFF", e);
  }
  if (vnet && ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
    int e = errno;
    close(fd);
    return sn_throw_errno(env, "TUNSETVNETHDRSZ", e);
  }
  if (vnet && ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0) {
    int e = errno;
    close(fd);
    return sn_throw_errno(env, "TUNSETOFFLOAD", e);
  }
  napi_value res, jfd, jname, jhdr;
  if (napi_create_object(env, &res) != napi_ok || napi_create_int32(env, fd, &jfd) != napi_ok ||
      napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &jname) != napi_ok ||
      napi_create_int32(env, vnet ? hdr_len : 0, &jhdr) != napi_ok ||
      napi_set_named_property(env, res, "fd", jfd) != napi_ok ||
      napi_set_named_property(env, res, "name", jname) != napi_ok ||
      napi_set_named_property(env, res, "vnetHdrLen", jhdr) != napi_ok) {
    close(fd);
    sn_throw_last(env);
    return NULL;
  }
  return res;
}

/* closeFd(fd): closes a descriptor this addon opened. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  SN_TRY(sn_args(env, info, 1, argv, NULL));
  SN_TRY(sn_fd(env, argv[0], &fd));
  if (close(fd) < 0 && errno != EINTR) return sn_throw_errno(env, "close", errno);
  return NULL;
}

/* writeFrames(fd, vnetHdrLen, buf, offsets, lengths, start, end, ctl) -> next index
 * ctl: [1] out refused frames, [2] out errno of the last, [3] in virtio_net_hdr flags,
 * [4] (optional) in 1: each frame carries its own virtio_net_hdr in the vnetHdrLen bytes before
 * its offset (the Coalescer's super-frames), written as is; ctl[3] is then ignored. */
static napi_value write_frames(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int fd;
  uint32_t hdr_len, start, end;
  sn_view buf, off, len, ctl;
  SN_TRY(sn_args(env, info, 8, argv, NULL));
  SN_TRY(sn_fd(env, argv[0], &fd));
  SN_TRY(sn_u32(env, argv[1], "vnetHdrLen", &hdr_len));
  SN_TRY(sn_bytes(env, argv[2], "buf", &buf));
  SN_TRY(sn_typed(env, argv[3], "offsets", napi_uint32_array, &off));
  SN_TRY(sn_typed(env, argv[4], "lengths", napi_uint32_array, &len));
  SN_TRY(sn_u32(env, argv[5], "start", &start));
  SN_TRY(sn_u32(env, argv[6], "end", &end));
  SN_TRY(sn_typed(env, argv[7], "ctl", napi_int32_array, &ctl));
  if (hdr_len != 0 && hdr_len != sizeof(struct virtio_net_hdr))
    return sn_throw_range(env, "vnetHdrLen must be 0 or %zu", sizeof(struct virtio_net_hdr));
  if (ctl.length < 4) return sn_throw_range(env, "ctl must have 4 entries");
  const uint32_t *o = (const uint32_t *)off.data, *l = (const uint32_t *)len.data;
  size_t n = off.length < len.length ? off.length : len.length;
  SN_TRY(sn_check_ranges(env, "writeFrames", &buf, o, l, n, start, end, 65535));

  /* A zero header: no checksum needed, no segmentation, which is what a plain frame is;
   * ctl[3] may add VIRTIO_NET_HDR_F_DATA_VALID (the frame was authenticated end to end). */
  int32_t *c = (int32_t *)ctl.data;
  if (c[3] != 0 && c[3] != VIRTIO_NET_HDR_F_DATA_VALID)
    return sn_throw_range(env, "ctl[3] (virtio_net_hdr flags) must be 0 or %d", VIRTIO_NET_HDR_F_DATA_VALID);
  bool own = ctl.length > 4 && c[4] == 1;
  if (own && hdr_len == 0) return sn_throw_range(env, "ctl[4] = 1 (own headers) needs a vnetHdrLen");
  if (own)
    for (uint32_t i = start; i < end; i++)
      if (o[i] < hdr_len) return sn_throw_range(env, "writeFrames: item %u has no header before offset %u", i, o[i]);
  struct virtio_net_hdr zero;
  memset(&zero, 0, sizeof zero);
  zero.flags = (uint8_t)c[3];
  c[1] = 0;
  uint32_t i = start;
  while (i < end) {
    struct iovec iov[2] = {{&zero, hdr_len}, {buf.data + o[i], l[i]}};
    ssize_t r = own       ? write(fd, buf.data + o[i] - hdr_len, l[i] + hdr_len)
                : hdr_len ? writev(fd, iov, 2)
                          : write(fd, buf.data + o[i], l[i]);
    if (r >= 0) {
      i++;
      continue;
    }
    int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN) break;
    if (e == EBADF || e == EBADFD || e == EFAULT) return sn_throw_errno(env, "writeFrames", e);
    c[1]++;
    c[2] = e;
    i++;
  }
  return sn_u32_value(env, i);
}

bool sn_tap_init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
      {"tapOpen", NULL, tap_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeFrames", NULL, write_frames, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 3, fns) == napi_ok;
}
