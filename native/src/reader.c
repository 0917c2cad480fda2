/*
 * Batched readers driven by uv_poll: one JS call per wake-up, however many packets came.
 *
 *   TAP: fd readable --uv_poll--> read() until EAGAIN or maxBatch --> frames packed into buf
 *   UDP: fd readable --uv_poll--> one recvmmsg(maxBatch) --> datagrams in fixed slots of buf,
 *        GRO super-datagrams split back into their segments, source addr/port per datagram
 *   then: onBatch(count, errno) once; offsets[i], lengths[i] (and for UDP addrs[i], ports[i])
 *   describe item i < count.
 *
 * Why: a JS call and an allocation per frame cost more than the frame's own syscall, and the
 * kernel's per-wake-up cost is paid once per batch. All memory is JS-owned and allocated once
 * by the caller; the contents are valid only until onBatch returns, because the next wake-up
 * overwrites them. Nothing blocks: the fd is non-blocking and the loop ends at EAGAIN.
 * Cost per packet: one read() (TAP) or 1/maxBatch of a recvmmsg (UDP), no allocation.
 *
 * Lifetime: start() holds a strong reference to the reader, so it cannot be collected while
 * it polls; stop() drops it; close() releases the uv handle. The fd must outlive the reader:
 * close() the reader before closing its fd.
 */
#include "reader.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"
#include "fastpath.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif
/* The kernel coalesces at most 64 datagrams into one GRO super-datagram (UDP_GRO_CNT_MAX). */
#define GRO_MAX_SEGMENTS 64
#define MAX_BATCH 1024

enum { KIND_TAP = 0, KIND_UDP = 1 };
enum { H_NONE, H_OPEN, H_CLOSING, H_CLOSED };

typedef struct {
  napi_env env;
  int kind, fd;
  uint32_t max_batch, slot, hdr_len, max_items;
  uv_poll_t poll;
  int handle_state;
  bool polling, finalized;
  napi_ref self, cb, refs[5], fast_ref;
  /* Optional: a lone packet is offered to the fast path before JavaScript (fastpath.c). */
  fastpath *fast;
  napi_async_context async;
  uint8_t *buf;
  size_t buf_bytes;
  uint32_t *off, *len, *addr;
  uint16_t *port;
  /* UDP only: one message header, iovec, source and control buffer per slot. */
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in *names;
  char *ctrl;
  /* Counters for metrics: read by counters(). */
  double wakeups, items, truncated, errors, fast_items;
} reader;

#define CTRL_SPACE CMSG_SPACE(sizeof(int))

static void reader_free(reader *r) {
  free(r->msgs);
  free(r->iov);
  free(r->names);
  free(r->ctrl);
  free(r);
}

static void on_closed(uv_handle_t *h) {
  reader *r = h->data;
  r->handle_state = H_CLOSED;
  if (r->finalized) reader_free(r);
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  reader *r = data;
  for (int i = 0; i < 5; i++)
    if (r->refs[i]) napi_delete_reference(env, r->refs[i]);
  if (r->cb) napi_delete_reference(env, r->cb);
  if (r->fast_ref) napi_delete_reference(env, r->fast_ref);
  if (r->self) napi_delete_reference(env, r->self);
  if (r->async) napi_async_destroy(env, r->async);
  r->finalized = true;
  if (r->handle_state == H_OPEN) {
    uv_close((uv_handle_t *)&r->poll, on_closed);
    r->handle_state = H_CLOSING;
  } else if (r->handle_state != H_CLOSING) {
    reader_free(r);
  }
}

static uint32_t read_tap(reader *r, int *err) {
  size_t pos = 0;
  uint32_t n = 0;
  while (n < r->max_batch && r->buf_bytes - pos >= r->slot) {
    ssize_t got = read(r->fd, r->buf + pos, r->slot);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) *err = errno;
      break;
    }
    if ((size_t)got < r->hdr_len) continue;
    /* With IFF_VNET_HDR the virtio_net_hdr stays in buf just before the frame. */
    r->off[n] = (uint32_t)(pos + r->hdr_len);
    r->len[n] = (uint32_t)got - r->hdr_len;
    n++;
    pos += ((size_t)got + 7) & ~(size_t)7; /* keep frames 8-byte aligned for the cipher */
  }
  return n;
}

static uint32_t read_udp(reader *r, int *err) {
  for (uint32_t i = 0; i < r->max_batch; i++) {
    struct msghdr *h = &r->msgs[i].msg_hdr;
    /* The kernel rewrites these lengths on every call, so they are reset every time. */
    h->msg_namelen = sizeof r->names[i];
    h->msg_controllen = CTRL_SPACE;
    h->msg_flags = 0;
  }
  int got;
  do got = recvmmsg(r->fd, r->msgs, r->max_batch, MSG_DONTWAIT, NULL);
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno != EAGAIN) *err = errno;
    return 0;
  }
  uint32_t n = 0;
  for (int i = 0; i < got; i++) {
    struct msghdr *h = &r->msgs[i].msg_hdr;
    uint32_t size = r->msgs[i].msg_len;
    if (h->msg_flags & MSG_TRUNC) {
      r->truncated++;
      continue;
    }
    uint32_t seg = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
      if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
        int v;
        memcpy(&v, CMSG_DATA(cm), sizeof v);
        seg = v > 0 ? (uint32_t)v : 0;
      }
    }
    if (seg == 0 || seg >= size) seg = size ? size : 1;
    uint32_t base = (uint32_t)((size_t)i * r->slot);
    uint32_t a = ntohl(r->names[i].sin_addr.s_addr);
    uint16_t p = ntohs(r->names[i].sin_port);
    /* Zero-length datagrams are real (they carry no payload but do carry a source). */
    uint32_t at = 0;
    do {
      if (n == r->max_items) {
        r->truncated++;
        break;
      }
      uint32_t l = size - at < seg ? size - at : seg;
      r->off[n] = base + at;
      r->len[n] = l;
      r->addr[n] = a;
      r->port[n] = p;
      n++;
      at += l;
    } while (at < size);
  }
  return n;
}

static void stop_polling(reader *r) {
  if (!r->polling) return;
  uv_poll_stop(&r->poll);
  r->polling = false;
  napi_reference_unref(r->env, r->self, NULL);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  reader *r = h->data;
  int err = 0;
  uint32_t n = 0;
  r->wakeups++;
  if (status < 0)
    err = -status;
  else
    n = r->kind == KIND_TAP ? read_tap(r, &err) : read_udp(r, &err);
  if (n == 0 && err == 0) return;
  r->items += n;
  if (n == 1 && err == 0 && r->fast) {
    bool done = r->kind == KIND_TAP ? sn_fast_tap(r->fast, r->buf + r->off[0], r->len[0])
                                    : sn_fast_udp(r->fast, r->buf + r->off[0], r->len[0], r->addr[0], r->port[0]);
    if (done) {
      r->fast_items++;
      return;
    }
  }
  if (err) {
    r->errors++;
    /* A level-triggered poll on a broken fd would spin: stop and let the owner decide. */
    stop_polling(r);
  }
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2];
  if (napi_get_reference_value(env, r->cb, &cb) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_create_uint32(env, n, &argv[0]) == napi_ok && napi_create_int32(env, err, &argv[1]) == napi_ok) {
    if (napi_make_callback(env, r->async, recv, cb, 2, argv, NULL) == napi_pending_exception) {
      /* An exception in onBatch is the application's: report it as uncaught, as Node would. */
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* new Reader(kind, fd, onBatch, buf, offsets, lengths, addrs, ports, maxBatch, slotSize, vnetHdrLen) */
static napi_value reader_new(napi_env env, napi_callback_info info) {
  napi_value argv[11], self;
  uint32_t kind, max_batch, slot, hdr_len;
  int32_t fd;
  sn_view buf, off, len, addr = {0}, port = {0};
  napi_valuetype t;
  SN_TRY(sn_args(env, info, 11, argv, &self));
  SN_TRY(sn_u32(env, argv[0], "kind", &kind));
  SN_TRY(sn_i32(env, argv[1], "fd", &fd));
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function)
    return sn_throw_type(env, "onBatch must be a function");
  SN_TRY(sn_bytes(env, argv[3], "buf", &buf));
  SN_TRY(sn_typed(env, argv[4], "offsets", napi_uint32_array, &off));
  SN_TRY(sn_typed(env, argv[5], "lengths", napi_uint32_array, &len));
  SN_TRY(sn_u32(env, argv[8], "maxBatch", &max_batch));
  SN_TRY(sn_u32(env, argv[9], "slotSize", &slot));
  SN_TRY(sn_u32(env, argv[10], "vnetHdrLen", &hdr_len));
  if (kind > KIND_UDP) return sn_throw_range(env, "kind must be 0 (TAP) or 1 (UDP)");
  if (fd < 0) return sn_throw_errno(env, "Reader", EBADF);
  if (max_batch < 1 || max_batch > MAX_BATCH) return sn_throw_range(env, "maxBatch must be in [1, %d]", MAX_BATCH);
  if (slot < 64 || slot > 65536 + 64) return sn_throw_range(env, "slotSize must be in [64, 65600]");
  if (kind == KIND_UDP && hdr_len) return sn_throw_range(env, "vnetHdrLen is for TAP readers only");
  uint32_t max_items = kind == KIND_UDP ? max_batch * GRO_MAX_SEGMENTS : max_batch;
  if (kind == KIND_UDP) {
    SN_TRY(sn_typed(env, argv[6], "addrs", napi_uint32_array, &addr));
    SN_TRY(sn_typed(env, argv[7], "ports", napi_uint16_array, &port));
    if (addr.length < max_items || port.length < max_items)
      return sn_throw_range(env, "addrs/ports need %u entries (maxBatch x 64 GRO segments)", max_items);
    if (buf.bytes < (uint64_t)max_batch * slot)
      return sn_throw_range(env, "buf needs maxBatch x slotSize = %llu bytes",
                            (unsigned long long)max_batch * slot);
  } else if (buf.bytes < slot) {
    return sn_throw_range(env, "buf needs at least slotSize = %u bytes", slot);
  }
  if (off.length < max_items || len.length < max_items)
    return sn_throw_range(env, "offsets/lengths need %u entries", max_items);

  reader *r = calloc(1, sizeof *r);
  if (!r) return sn_throw_errno(env, "Reader", ENOMEM);
  r->env = env;
  r->kind = (int)kind;
  r->fd = fd;
  r->max_batch = max_batch;
  r->slot = slot;
  r->hdr_len = hdr_len;
  r->max_items = max_items;
  r->buf = buf.data;
  r->buf_bytes = buf.bytes;
  r->off = (uint32_t *)off.data;
  r->len = (uint32_t *)len.data;
  r->addr = (uint32_t *)addr.data;
  r->port = (uint16_t *)port.data;
  r->poll.data = r;
  if (kind == KIND_UDP) {
    r->msgs = calloc(max_batch, sizeof *r->msgs);
    r->iov = calloc(max_batch, sizeof *r->iov);
    r->names = calloc(max_batch, sizeof *r->names);
    r->ctrl = calloc(max_batch, CTRL_SPACE);
    if (!r->msgs || !r->iov || !r->names || !r->ctrl) {
      reader_free(r);
      return sn_throw_errno(env, "Reader", ENOMEM);
    }
    for (uint32_t i = 0; i < max_batch; i++) {
      r->iov[i] = (struct iovec){r->buf + (size_t)i * slot, slot};
      struct msghdr *h = &r->msgs[i].msg_hdr;
      h->msg_name = &r->names[i];
      h->msg_iov = &r->iov[i];
      h->msg_iovlen = 1;
      h->msg_control = r->ctrl + (size_t)i * CTRL_SPACE;
    }
  }
  if (napi_wrap(env, self, r, reader_finalize, NULL, NULL) != napi_ok) {
    reader_free(r);
    sn_throw_last(env);
    return NULL;
  }
  /* Strong references keep the callback and the JS-owned memory alive as long as we are. */
  napi_value name;
  for (int i = 0; i < 5; i++) {
    napi_valuetype vt;
    SN_CALL(env, napi_typeof(env, argv[3 + i], &vt));
    if (vt == napi_object) SN_CALL(env, napi_create_reference(env, argv[3 + i], 1, &r->refs[i]));
  }
  SN_CALL(env, napi_create_reference(env, argv[2], 1, &r->cb));
  SN_CALL(env, napi_create_reference(env, self, 0, &r->self));
  SN_CALL(env, napi_create_string_utf8(env, "SlicenetReader", NAPI_AUTO_LENGTH, &name));
  SN_CALL(env, napi_async_init(env, NULL, name, &r->async));
  return self;
}

static reader *unwrap_reader(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  void *r = NULL;
  if (napi_get_cb_info(env, info, &argc, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, &r) != napi_ok) {
    sn_throw_type(env, "not a Reader");
    return NULL;
  }
  return r;
}

static napi_value reader_start(napi_env env, napi_callback_info info) {
  reader *r = unwrap_reader(env, info);
  SN_TRY(r);
  if (r->handle_state >= H_CLOSING) {
    napi_throw_error(env, "ERR_READER_CLOSED", "the reader was closed");
    return NULL;
  }
  if (r->polling) return NULL;
  if (r->handle_state == H_NONE) {
    uv_loop_t *loop;
    SN_CALL(env, napi_get_uv_event_loop(env, &loop));
    int e = uv_poll_init(loop, &r->poll, r->fd);
    if (e < 0) return sn_throw_errno(env, "uv_poll_init", -e);
    r->handle_state = H_OPEN;
  }
  int e = uv_poll_start(&r->poll, UV_READABLE, on_poll);
  if (e < 0) return sn_throw_errno(env, "uv_poll_start", -e);
  r->polling = true;
  SN_CALL(env, napi_reference_ref(env, r->self, NULL));
  return NULL;
}

static napi_value reader_stop(napi_env env, napi_callback_info info) {
  reader *r = unwrap_reader(env, info);
  SN_TRY(r);
  stop_polling(r);
  return NULL;
}

static napi_value reader_close(napi_env env, napi_callback_info info) {
  reader *r = unwrap_reader(env, info);
  SN_TRY(r);
  stop_polling(r);
  if (r->handle_state == H_OPEN) {
    uv_close((uv_handle_t *)&r->poll, on_closed);
    r->handle_state = H_CLOSING;
  } else if (r->handle_state == H_NONE) {
    r->handle_state = H_CLOSED;
  }
  return NULL;
}

static napi_value reader_counters(napi_env env, napi_callback_info info) {
  reader *r = unwrap_reader(env, info);
  SN_TRY(r);
  napi_value res, v;
  SN_CALL(env, napi_create_object(env, &res));
  const char *names[] = {"wakeups", "items", "truncated", "errors", "fast"};
  double vals[] = {r->wakeups, r->items, r->truncated, r->errors, r->fast_items};
  for (int i = 0; i < 5; i++) {
    SN_CALL(env, napi_create_double(env, vals[i], &v));
    SN_CALL(env, napi_set_named_property(env, res, names[i], v));
  }
  return res;
}

/* setFast(fastPath | null): offer lone packets to a FastPath first (null: JavaScript only). */
static napi_value reader_set_fast(napi_env env, napi_callback_info info) {
  napi_value argv[1], self;
  void *p = NULL;
  SN_TRY(sn_args(env, info, 1, argv, &self));
  if (napi_unwrap(env, self, &p) != napi_ok) return sn_throw_type(env, "not a Reader");
  reader *r = p;
  napi_valuetype t;
  SN_CALL(env, napi_typeof(env, argv[0], &t));
  fastpath *f = NULL;
  if (t != napi_null) {
    f = sn_fast_unwrap(env, argv[0]);
    if (!f) return sn_throw_type(env, "fastPath must be a FastPath or null");
  }
  if (r->fast_ref) napi_delete_reference(env, r->fast_ref);
  r->fast_ref = NULL;
  r->fast = f;
  if (f) SN_CALL(env, napi_create_reference(env, argv[0], 1, &r->fast_ref));
  return NULL;
}

bool sn_reader_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"start", NULL, reader_start, NULL, NULL, NULL, napi_default_method, NULL},
      {"stop", NULL, reader_stop, NULL, NULL, NULL, napi_default_method, NULL},
      {"close", NULL, reader_close, NULL, NULL, NULL, napi_default_method, NULL},
      {"counters", NULL, reader_counters, NULL, NULL, NULL, napi_default_method, NULL},
      {"setFast", NULL, reader_set_fast, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value ctor;
  return napi_define_class(env, "Reader", NAPI_AUTO_LENGTH, reader_new, NULL, 5, methods, &ctor) == napi_ok &&
         napi_set_named_property(env, exports, "Reader", ctor) == napi_ok;
}
