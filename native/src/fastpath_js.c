/*
 * The fast path's JavaScript side (native/fastpath.ts): the FastPath object's life, and the
 * calls by which slice-gateway/gateway/fast.ts publishes what is routine (sessions, MACs).
 * Every argument is checked and refused by name before anything changes.
 */
#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "fastpath_state.h"
#include "replay.h"

static const napi_type_tag FAST_TAG = {0x736c6963656e6574ULL, 0x6661737470617468ULL};

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
  mac_mirror_clear(&f->macs);
}

static void fast_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  fastpath *f = data;
  fast_clear(env, f);
  drop_ref(env, &f->stats_ref);
  drop_ref(env, &f->counters_ref);
  mac_mirror_free(&f->macs);
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
  if (!f || !mac_mirror_init(&f->macs)) {
    free(f);
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
    mac_mirror_free(&f->macs);
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
  SN_CALL(env, napi_get_boolean(env, mac_set(&f->macs, mac, slot), &res));
  return res;
}

/* deleteMac(mac) */
static napi_value fast_delete_mac(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *f = this_fast(env, info, 1, argv);
  SN_TRY(f);
  uint64_t mac;
  SN_TRY(mac_arg(env, argv[0], &mac));
  mac_delete(&f->macs, mac);
  return NULL;
}

/* The mirror's entry for the MAC in argv[0] (NULL if none); false with an exception pending. */
static bool mac_lookup(napi_env env, napi_callback_info info, mac_entry **e) {
  napi_value argv[1];
  uint64_t mac;
  fastpath *f = this_fast(env, info, 1, argv);
  if (!f || !mac_arg(env, argv[0], &mac)) return false;
  *e = mac_find(&f->macs, mac);
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
  SN_CALL(env, napi_create_double(env, fast_now_ms(), &res));
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
