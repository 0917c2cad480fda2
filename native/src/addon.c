/*
 * Module entry: registers the TAP, UDP, reader, AEAD, fast-path and netlink parts, and checks that OpenSSL comes
 * from the Node binary itself.
 *
 * The addon links no libcrypto: its EVP_* references stay undefined in the .node file and the
 * dynamic loader binds them to the copy Node exports. dladdr() tells which loaded object
 * supplied a symbol: loading fails unless EVP_CIPHER_CTX_new comes from the same object as
 * napi_create_object (the Node binary), so a libcrypto pulled in by anything else can never
 * end up under our cipher contexts. The version check refuses an OpenSSL whose major version
 * differs from the headers we were built with.
 */
#include <dlfcn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "aead.h"
#include "common.h"
#include "fastpath.h"
#include "gso.h"
#include "gro.h"
#include "netlink.h"
#include "reader.h"
#include "tap.h"
#include "udp.h"

static bool set_string(napi_env env, napi_value obj, const char *key, const char *val) {
  napi_value v;
  return napi_create_string_utf8(env, val, NAPI_AUTO_LENGTH, &v) == napi_ok &&
         napi_set_named_property(env, obj, key, v) == napi_ok;
}

NAPI_MODULE_INIT() {
  unsigned long runtime = OpenSSL_version_num();
  if ((runtime >> 28) != (OPENSSL_VERSION_NUMBER >> 28)) {
    napi_throw_error(env, "ERR_OPENSSL_MISMATCH",
                     "the OpenSSL in this process is not the major version the addon was built against");
    return NULL;
  }
  Dl_info ssl = {0}, node = {0};
  if (!dladdr((void *)&EVP_CIPHER_CTX_new, &ssl) || !dladdr((void *)&napi_create_object, &node) ||
      ssl.dli_fbase != node.dli_fbase) {
    napi_throw_error(env, "ERR_OPENSSL_NOT_NODE",
                     "OpenSSL's EVP functions do not resolve to the Node binary (a second libcrypto is loaded)");
    return NULL;
  }
  if (!sn_tap_init(env, exports) || !sn_udp_init(env, exports) || !sn_reader_init(env, exports) ||
      !sn_aead_init(env, exports) || !sn_fast_init(env, exports) || !sn_gso_init(env, exports) || !sn_gro_init(env, exports) ||
      !sn_netlink_init(env, exports) || !set_string(env, exports, "opensslVersion", OpenSSL_version(OPENSSL_VERSION)) ||
      !set_string(env, exports, "opensslFrom", ssl.dli_fname ? ssl.dli_fname : "")) {
    sn_throw_last(env);
    return NULL;
  }
  return exports;
}
