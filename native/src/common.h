/*
 * Shared helpers for the addon: argument checking and error construction.
 *
 * Every exported function validates all of its arguments (types, ranges, and that each
 * offset/length pair lies inside its buffer) before it touches the kernel or OpenSSL, so a
 * bad call from TypeScript throws a TypeError/RangeError and never reads or writes memory it
 * does not own. Errors from the kernel carry `code` (the errno name, e.g. "ENOENT") and
 * `errno`, like Node's own system errors.
 */
#ifndef SLICENET_COMMON_H
#define SLICENET_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP): the upper bound for any datagram. */
#define SN_MAX_DATAGRAM 65507u

/* Evaluates a napi call; on failure throws (if nothing is pending yet) and returns NULL. */
#define SN_CALL(env, call)                                                                   \
  do {                                                                                       \
    if ((call) != napi_ok) {                                                                 \
      sn_throw_last(env);                                                                    \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

/* Same for helpers that return bool (false = an exception is pending). */
#define SN_TRY(x)                                                                            \
  do {                                                                                       \
    if (!(x)) return NULL;                                                                   \
  } while (0)

void sn_throw_last(napi_env env);
/* An Error for errno `err` ("<what>: <strerror>", `code` its name, `errno`), or NULL. */
napi_value sn_errno_error(napi_env env, const char *what, int err);
napi_value sn_throw_errno(napi_env env, const char *what, int err);
napi_value sn_throw_range(napi_env env, const char *fmt, ...);
napi_value sn_throw_type(napi_env env, const char *fmt, ...);

/* A view of caller-owned memory: a Buffer, a Uint8Array, or any other TypedArray. */
typedef struct {
  uint8_t *data;
  size_t bytes;  /* length in bytes */
  size_t length; /* length in elements */
} sn_view;

bool sn_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, napi_value *self);
bool sn_u32(napi_env env, napi_value v, const char *name, uint32_t *out);
bool sn_i32(napi_env env, napi_value v, const char *name, int32_t *out);
bool sn_bool(napi_env env, napi_value v, const char *name, bool *out);
bool sn_u64(napi_env env, napi_value v, const char *name, uint64_t *out);
bool sn_string(napi_env env, napi_value v, const char *name, char *buf, size_t cap);
bool sn_bytes(napi_env env, napi_value v, const char *name, sn_view *out);
bool sn_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type type, sn_view *out);
bool sn_fd(napi_env env, napi_value v, int *fd);

/* Checks that items [start, end) of an offsets/lengths pair exist and lie inside `buf`. */
bool sn_check_ranges(napi_env env, const char *what, const sn_view *buf, const uint32_t *off,
                     const uint32_t *len, size_t nitems, uint32_t start, uint32_t end,
                     uint32_t max_len);

napi_value sn_u32_value(napi_env env, uint32_t v);

#endif
