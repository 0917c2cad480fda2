#ifndef SLICENET_AEAD_H
#define SLICENET_AEAD_H
#include <stdbool.h>
#include <stdint.h>
#define NAPI_VERSION 8
#include <node_api.h>

/* A transport message's header (type, zeros, receiver index, counter) and tag around the frame. */
#define SN_AEAD_HEADER 16
#define SN_AEAD_OVERHEAD 32

enum { SN_OPEN_OK = 0, SN_OPEN_SHORT = 1, SN_OPEN_HEADER = 2, SN_OPEN_AUTH = 3 };

typedef struct aead_key aead_key;

bool sn_aead_init(napi_env env, napi_value exports);

/* The key an AeadKey object wraps, or NULL (nothing thrown) if `v` is not an AeadKey. */
aead_key *sn_aead_key(napi_env env, napi_value v);
/* False once the AeadKey was destroyed (its OpenSSL contexts wiped). */
bool sn_aead_live(const aead_key *k);
/* Seals frame in[0, n) as one transport message into out[0, n + 32); false if OpenSSL fails.
 * in and out must not overlap. */
bool sn_aead_seal(aead_key *k, uint32_t receiver, uint64_t counter, const uint8_t *in, uint32_t n, uint8_t *out);
/* Opens the transport message in[0, n) into out[0, n - 32): SN_OPEN_OK with *counter set, or
 * the reason it failed (out then holds zeros, never unauthenticated plaintext). */
int sn_aead_open(aead_key *k, const uint8_t *in, uint32_t n, uint8_t *out, uint64_t *counter);
#endif
