/* Argument checking and error construction; see common.h for the rules. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

void sn_throw_last(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_NATIVE", info && info->error_message ? info->error_message : "N-API call failed");
}

napi_value sn_errno_error(napi_env env, const char *what, int err) {
  char msg[320];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  /* glibc names every errno; libuv's table (its codes are negated errnos) is the fallback. */
  const char *code = strerrorname_np(err);
  if (!code) code = uv_err_name(-err);
  napi_value jcode, jmsg, error, jerrno;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, jcode, jmsg, &error) != napi_ok ||
      napi_create_int32(env, -err, &jerrno) != napi_ok ||
      napi_set_named_property(env, error, "errno", jerrno) != napi_ok)
    return NULL;
  return error;
}

napi_value sn_throw_errno(napi_env env, const char *what, int err) {
  napi_value error = sn_errno_error(env, what, err);
  if (error)
    napi_throw(env, error);
  else
    sn_throw_last(env);
  return NULL;
}

#define SN_THROW_FMT(thrower, code)                                                          \
  char msg[256];                                                                             \
  va_list ap;                                                                                \
  va_start(ap, fmt);                                                                         \
  vsnprintf(msg, sizeof msg, fmt, ap);                                                       \
  va_end(ap);                                                                                \
  thrower(env, code, msg);                                                                   \
  return NULL

napi_value sn_throw_range(napi_env env, const char *fmt, ...) { SN_THROW_FMT(napi_throw_range_error, "ERR_OUT_OF_RANGE"); }

napi_value sn_throw_type(napi_env env, const char *fmt, ...) { SN_THROW_FMT(napi_throw_type_error, "ERR_INVALID_ARG_TYPE"); }

bool sn_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, napi_value *self) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, self, NULL) != napi_ok) {
    sn_throw_last(env);
    return false;
  }
  if (argc < want) {
    sn_throw_type(env, "expected %zu arguments, got %zu", want, argc);
    return false;
  }
  return true;
}

static bool is_type(napi_env env, napi_value v, napi_valuetype want) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == want;
}

bool sn_u32(napi_env env, napi_value v, const char *name, uint32_t *out) {
  double d;
  if (!is_type(env, v, napi_number) || napi_get_value_double(env, v, &d) != napi_ok || d < 0 ||
      d > 4294967295.0 || d != (double)(uint32_t)d) {
    sn_throw_type(env, "%s must be an integer in [0, 2^32)", name);
    return false;
  }
  *out = (uint32_t)d;
  return true;
}

bool sn_i32(napi_env env, napi_value v, const char *name, int32_t *out) {
  double d;
  if (!is_type(env, v, napi_number) || napi_get_value_double(env, v, &d) != napi_ok ||
      d < -2147483648.0 || d > 2147483647.0 || d != (double)(int32_t)d) {
    sn_throw_type(env, "%s must be a 32-bit integer", name);
    return false;
  }
  *out = (int32_t)d;
  return true;
}

bool sn_bool(napi_env env, napi_value v, const char *name, bool *out) {
  if (!is_type(env, v, napi_boolean) || napi_get_value_bool(env, v, out) != napi_ok) {
    sn_throw_type(env, "%s must be a boolean", name);
    return false;
  }
  return true;
}

bool sn_u64(napi_env env, napi_value v, const char *name, uint64_t *out) {
  bool lossless = false;
  if (!is_type(env, v, napi_bigint) || napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok ||
      !lossless) {
    sn_throw_type(env, "%s must be a bigint in [0, 2^64)", name);
    return false;
  }
  return true;
}

bool sn_string(napi_env env, napi_value v, const char *name, char *buf, size_t cap) {
  size_t len = 0;
  if (!is_type(env, v, napi_string) || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    sn_throw_type(env, "%s must be a string", name);
    return false;
  }
  if (len + 1 > cap) {
    sn_throw_range(env, "%s is longer than %zu bytes", name, cap - 1);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &len);
  return true;
}

static size_t elem_size(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: return 1;
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    default: return 8;
  }
}

bool sn_bytes(napi_env env, napi_value v, const char *name, sn_view *out) {
  bool is = false;
  napi_typedarray_type t;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != napi_uint8_array) {
    sn_throw_type(env, "%s must be a Buffer or Uint8Array", name);
    return false;
  }
  out->data = data;
  out->bytes = out->length = len;
  return true;
}

bool sn_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type type, sn_view *out) {
  bool is = false;
  napi_typedarray_type t;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != type) {
    const char *want = type == napi_uint32_array     ? "Uint32Array"
                       : type == napi_uint16_array   ? "Uint16Array"
                       : type == napi_int32_array    ? "Int32Array"
                       : type == napi_biguint64_array ? "BigUint64Array"
                                                      : "Uint8Array";
    sn_throw_type(env, "%s must be a %s", name, want);
    return false;
  }
  out->data = data;
  out->length = len;
  out->bytes = len * elem_size(type);
  return true;
}

/* A descriptor number; whether it is open is the wrappers' to know (a closed one may have been
 * reused), and the kernel's EBADF covers the rest: no system call per batch to ask. */
bool sn_fd(napi_env env, napi_value v, int *fd) {
  int32_t x;
  if (!sn_i32(env, v, "fd", &x)) return false;
  if (x < 0) {
    sn_throw_errno(env, "fd", EBADF);
    return false;
  }
  *fd = x;
  return true;
}

bool sn_check_ranges(napi_env env, const char *what, const sn_view *buf, const uint32_t *off,
                     const uint32_t *len, size_t nitems, uint32_t start, uint32_t end, uint32_t max_len) {
  if (start > end || end > nitems) {
    sn_throw_range(env, "%s: items [%u, %u) are not inside the %zu-entry offsets/lengths arrays", what,
                   start, end, nitems);
    return false;
  }
  for (uint32_t i = start; i < end; i++) {
    if (len[i] > max_len) {
      sn_throw_range(env, "%s: item %u is %u bytes, more than the limit of %u", what, i, len[i], max_len);
      return false;
    }
    if ((uint64_t)off[i] + len[i] > buf->bytes) {
      sn_throw_range(env, "%s: item %u (offset %u, length %u) runs past the end of its %zu-byte buffer", what,
                     i, off[i], len[i], buf->bytes);
      return false;
    }
  }
  return true;
}

napi_value sn_u32_value(napi_env env, uint32_t v) {
  napi_value r;
  SN_CALL(env, napi_create_uint32(env, v, &r));
  return r;
}
