/*
 * Batched AEAD for the gateway's transport messages, with the OpenSSL inside the Node binary.
 *
 *   sealBatch:  frame[i] --(ctx reused, nonce = 0^4 || ctr+i LE)--> header || ciphertext || tag
 *   openBatch:  header || ciphertext || tag --(check header, same ctx)--> plaintext, counter, status
 *
 * Wire format (WireGuard's transport message): byte 0 type = 4, bytes 1-3 zero, bytes 4-7
 * receiver index (uint32 LE), bytes 8-15 counter (uint64 LE), then ciphertext and a 16-byte
 * tag; AAD is empty.
 *
 * Why native: node:crypto builds a new cipher object per call, which is ~85 % of its cost at
 * 1400 bytes. Here each AeadKey owns one EVP_CIPHER_CTX per direction, keyed once; a packet
 * only re-sets the IV. Nothing here blocks or allocates per packet: the caller owns every
 * buffer (ownership never moves), and the cost per packet is one IV reset, one Update, one
 * Final and one tag ctrl. Authentication failures are a per-item status, never an exception,
 * because a forged datagram from the WAN must not stop a batch.
 */
#include "aead.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define HEADER_LEN 16
#define TAG_LEN 16
#define OVERHEAD (HEADER_LEN + TAG_LEN)
#define MSG_TYPE_TRANSPORT 4

enum { ALG_CHACHA20_POLY1305 = 0, ALG_AES_256_GCM = 1 };

struct aead_key {
  int alg;
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
};

/* Distinguishes an AeadKey from any other wrapped object, so a wrong argument cannot be cast. */
static const napi_type_tag KEY_TAG = {0x736c6963656e6574ULL, 0x61656164b3e1c0deULL};

static void key_free(aead_key *k) {
  /* EVP_CIPHER_CTX_free cleanses the expanded key before releasing it. */
  EVP_CIPHER_CTX_free(k->enc);
  EVP_CIPHER_CTX_free(k->dec);
  k->enc = k->dec = NULL;
}

static void key_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  key_free(data);
  free(data);
}

static napi_value key_new(napi_env env, napi_callback_info info) {
  napi_value argv[2], self;
  char alg[32];
  sn_view key;
  SN_TRY(sn_args(env, info, 2, argv, &self));
  SN_TRY(sn_string(env, argv[0], "alg", alg, sizeof alg));
  SN_TRY(sn_bytes(env, argv[1], "key", &key));
  const EVP_CIPHER *cipher;
  int id;
  if (strcmp(alg, "chacha20-poly1305") == 0) {
    cipher = EVP_chacha20_poly1305();
    id = ALG_CHACHA20_POLY1305;
  } else if (strcmp(alg, "aes-256-gcm") == 0) {
    cipher = EVP_aes_256_gcm();
    id = ALG_AES_256_GCM;
  } else {
    return sn_throw_type(env, "alg must be \"chacha20-poly1305\" or \"aes-256-gcm\", got \"%s\"", alg);
  }
  if (key.bytes != 32) return sn_throw_range(env, "key must be 32 bytes, got %zu", key.bytes);

  aead_key *k = calloc(1, sizeof *k);
  if (!k) return sn_throw_errno(env, "AeadKey", ENOMEM);
  k->alg = id;
  k->enc = EVP_CIPHER_CTX_new();
  k->dec = EVP_CIPHER_CTX_new();
  if (!k->enc || !k->dec || EVP_EncryptInit_ex(k->enc, cipher, NULL, key.data, NULL) != 1 ||
      EVP_DecryptInit_ex(k->dec, cipher, NULL, key.data, NULL) != 1) {
    key_free(k);
    free(k);
    napi_throw_error(env, "ERR_CRYPTO", "AeadKey: OpenSSL could not set up the cipher");
    return NULL;
  }
  if (napi_wrap(env, self, k, key_finalize, NULL, NULL) != napi_ok) {
    key_free(k);
    free(k);
    sn_throw_last(env);
    return NULL;
  }
  SN_CALL(env, napi_type_tag_object(env, self, &KEY_TAG));
  return self;
}

aead_key *sn_aead_key(napi_env env, napi_value v) {
  bool tagged = false;
  void *k = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
      napi_check_object_type_tag(env, v, &KEY_TAG, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, v, &k) != napi_ok)
    return NULL;
  return k;
}

bool sn_aead_live(const aead_key *k) { return k->enc != NULL; }

static aead_key *unwrap_key(napi_env env, napi_value v) {
  aead_key *k = sn_aead_key(env, v);
  if (!k) {
    sn_throw_type(env, "key must be an AeadKey");
    return NULL;
  }
  if (!k->enc) {
    napi_throw_error(env, "ERR_KEY_DESTROYED", "the AeadKey was destroyed");
    return NULL;
  }
  return k;
}

static napi_value key_destroy(napi_env env, napi_callback_info info) {
  napi_value self;
  void *k = NULL;
  size_t argc = 0;
  SN_CALL(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  SN_CALL(env, napi_unwrap(env, self, &k));
  key_free(k);
  return NULL;
}

static bool overlaps(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen && blen && a < b + blen && b < a + alen;
}

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

bool sn_aead_seal(aead_key *k, uint32_t receiver, uint64_t counter, const uint8_t *in, uint32_t n, uint8_t *out) {
  uint8_t nonce[12] = {0};
  out[0] = MSG_TYPE_TRANSPORT;
  out[1] = out[2] = out[3] = 0;
  put_le32(out + 4, receiver);
  put_le64(out + 8, counter);
  put_le64(nonce + 4, counter);
  int len = 0, fin = 0;
  return EVP_EncryptInit_ex(k->enc, NULL, NULL, NULL, nonce) == 1 &&
         (n == 0 || EVP_EncryptUpdate(k->enc, out + HEADER_LEN, &len, in, (int)n) == 1) &&
         EVP_EncryptFinal_ex(k->enc, out + HEADER_LEN + len, &fin) == 1 &&
         EVP_CIPHER_CTX_ctrl(k->enc, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + HEADER_LEN + n) == 1;
}

int sn_aead_open(aead_key *k, const uint8_t *in, uint32_t n, uint8_t *out, uint64_t *counter) {
  if (n < OVERHEAD) return SN_OPEN_SHORT;
  if (in[0] != MSG_TYPE_TRANSPORT || in[1] || in[2] || in[3]) return SN_OPEN_HEADER;
  uint8_t nonce[12] = {0};
  uint32_t m = n - OVERHEAD;
  memcpy(nonce + 4, in + 8, 8);
  int len = 0, fin = 0;
  /* The tag ctrl takes a non-const pointer but only reads it. */
  if (EVP_DecryptInit_ex(k->dec, NULL, NULL, NULL, nonce) != 1 ||
      (m > 0 && EVP_DecryptUpdate(k->dec, out, &len, in + HEADER_LEN, (int)m) != 1) ||
      EVP_CIPHER_CTX_ctrl(k->dec, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)(in + HEADER_LEN + m)) != 1 ||
      EVP_DecryptFinal_ex(k->dec, out + len, &fin) != 1) {
    /* Never leave unauthenticated plaintext where the caller might read it. */
    if (m > 0) memset(out, 0, m);
    return SN_OPEN_AUTH;
  }
  *counter = get_le64(in + 8);
  return SN_OPEN_OK;
}

/*
 * sealBatch(key, receiverIndex, firstCounter, src, srcOff, srcLen, start, end,
 *           dst, dstStart, dstOff, dstLen) -> end offset in dst
 */
static napi_value seal_batch(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  SN_TRY(sn_args(env, info, 12, argv, NULL));
  aead_key *k = unwrap_key(env, argv[0]);
  SN_TRY(k);
  uint32_t receiver, start, end, dst_start;
  uint64_t counter;
  sn_view src, soff, slen, dst, doff, dlen;
  SN_TRY(sn_u32(env, argv[1], "receiverIndex", &receiver));
  SN_TRY(sn_u64(env, argv[2], "firstCounter", &counter));
  SN_TRY(sn_bytes(env, argv[3], "src", &src));
  SN_TRY(sn_typed(env, argv[4], "srcOffsets", napi_uint32_array, &soff));
  SN_TRY(sn_typed(env, argv[5], "srcLengths", napi_uint32_array, &slen));
  SN_TRY(sn_u32(env, argv[6], "start", &start));
  SN_TRY(sn_u32(env, argv[7], "end", &end));
  SN_TRY(sn_bytes(env, argv[8], "dst", &dst));
  SN_TRY(sn_u32(env, argv[9], "dstStart", &dst_start));
  SN_TRY(sn_typed(env, argv[10], "dstOffsets", napi_uint32_array, &doff));
  SN_TRY(sn_typed(env, argv[11], "dstLengths", napi_uint32_array, &dlen));

  const uint32_t *so = (const uint32_t *)soff.data, *sl = (const uint32_t *)slen.data;
  uint32_t *dof = (uint32_t *)doff.data, *dl = (uint32_t *)dlen.data;
  size_t nitems = soff.length < slen.length ? soff.length : slen.length;
  SN_TRY(sn_check_ranges(env, "sealBatch src", &src, so, sl, nitems, start, end, SN_MAX_DATAGRAM - OVERHEAD));
  if (end > doff.length || end > dlen.length)
    return sn_throw_range(env, "sealBatch: dstOffsets/dstLengths have fewer than %u entries", end);
  if (end - start > 0 && counter > UINT64_MAX - (end - start - 1))
    return sn_throw_range(env, "sealBatch: counter would wrap past 2^64-1");
  uint64_t need = dst_start;
  for (uint32_t i = start; i < end; i++) need += (uint64_t)sl[i] + OVERHEAD;
  if (need > dst.bytes)
    return sn_throw_range(env, "sealBatch: dst needs %llu bytes from its start, has %zu",
                          (unsigned long long)need, dst.bytes);

  /* OpenSSL 3's provider ciphers do not check for partial overlap, so we must. */
  for (uint32_t i = start, at = dst_start; i < end; at += sl[i] + OVERHEAD, i++)
    if (overlaps(src.data + so[i], sl[i], dst.data + at, sl[i] + OVERHEAD))
      return sn_throw_range(env, "sealBatch: frame %u and its datagram overlap in memory", i);

  size_t pos = dst_start;
  for (uint32_t i = start; i < end; i++, counter++) {
    if (!sn_aead_seal(k, receiver, counter, src.data + so[i], sl[i], dst.data + pos)) {
      napi_throw_error(env, "ERR_CRYPTO", "sealBatch: OpenSSL refused to encrypt");
      return NULL;
    }
    dof[i] = (uint32_t)pos;
    dl[i] = sl[i] + OVERHEAD;
    pos += sl[i] + OVERHEAD;
  }
  return sn_u32_value(env, (uint32_t)pos);
}

/*
 * openBatch(key, src, srcOff, srcLen, start, end, dst, dstStart, dstOff, dstLen,
 *           counters, status) -> number of items that opened
 */
static napi_value open_batch(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  SN_TRY(sn_args(env, info, 12, argv, NULL));
  aead_key *k = unwrap_key(env, argv[0]);
  SN_TRY(k);
  uint32_t start, end, dst_start;
  sn_view src, soff, slen, dst, doff, dlen, ctrs, status;
  SN_TRY(sn_bytes(env, argv[1], "src", &src));
  SN_TRY(sn_typed(env, argv[2], "srcOffsets", napi_uint32_array, &soff));
  SN_TRY(sn_typed(env, argv[3], "srcLengths", napi_uint32_array, &slen));
  SN_TRY(sn_u32(env, argv[4], "start", &start));
  SN_TRY(sn_u32(env, argv[5], "end", &end));
  SN_TRY(sn_bytes(env, argv[6], "dst", &dst));
  SN_TRY(sn_u32(env, argv[7], "dstStart", &dst_start));
  SN_TRY(sn_typed(env, argv[8], "dstOffsets", napi_uint32_array, &doff));
  SN_TRY(sn_typed(env, argv[9], "dstLengths", napi_uint32_array, &dlen));
  SN_TRY(sn_typed(env, argv[10], "counters", napi_biguint64_array, &ctrs));
  SN_TRY(sn_typed(env, argv[11], "status", napi_uint8_array, &status));

  const uint32_t *so = (const uint32_t *)soff.data, *sl = (const uint32_t *)slen.data;
  uint32_t *dof = (uint32_t *)doff.data, *dl = (uint32_t *)dlen.data;
  uint64_t *ctr = (uint64_t *)ctrs.data;
  uint8_t *st = status.data;
  size_t nitems = soff.length < slen.length ? soff.length : slen.length;
  SN_TRY(sn_check_ranges(env, "openBatch src", &src, so, sl, nitems, start, end, SN_MAX_DATAGRAM));
  if (end > doff.length || end > dlen.length || end > ctrs.length || end > status.length)
    return sn_throw_range(env, "openBatch: dstOffsets/dstLengths/counters/status have fewer than %u entries",
                          end);
  uint64_t need = dst_start;
  for (uint32_t i = start; i < end; i++)
    if (sl[i] > OVERHEAD) need += sl[i] - OVERHEAD;
  if (need > dst.bytes)
    return sn_throw_range(env, "openBatch: dst needs %llu bytes from its start, has %zu",
                          (unsigned long long)need, dst.bytes);

  /* Items that fail do not advance the output, so check against every place one could land. */
  for (uint32_t i = start; i < end; i++)
    if (sl[i] > OVERHEAD && overlaps(src.data + so[i], sl[i], dst.data + dst_start, need - dst_start))
      return sn_throw_range(env, "openBatch: datagram %u overlaps the plaintext output in memory", i);

  size_t pos = dst_start;
  uint32_t ok = 0;
  for (uint32_t i = start; i < end; i++) {
    dof[i] = (uint32_t)pos;
    dl[i] = 0;
    ctr[i] = 0;
    st[i] = (uint8_t)sn_aead_open(k, src.data + so[i], sl[i], dst.data + pos, &ctr[i]);
    if (st[i] != SN_OPEN_OK) continue;
    dl[i] = sl[i] - OVERHEAD;
    pos += dl[i];
    ok++;
  }
  return sn_u32_value(env, ok);
}

bool sn_aead_init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"destroy", NULL, key_destroy, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value ctor, seal, open;
  if (napi_define_class(env, "AeadKey", NAPI_AUTO_LENGTH, key_new, NULL, 1, methods, &ctor) != napi_ok ||
      napi_set_named_property(env, exports, "AeadKey", ctor) != napi_ok ||
      napi_create_function(env, "sealBatch", NAPI_AUTO_LENGTH, seal_batch, NULL, &seal) != napi_ok ||
      napi_set_named_property(env, exports, "sealBatch", seal) != napi_ok ||
      napi_create_function(env, "openBatch", NAPI_AUTO_LENGTH, open_batch, NULL, &open) != napi_ok ||
      napi_set_named_property(env, exports, "openBatch", open) != napi_ok)
    return false;
  return true;
}
