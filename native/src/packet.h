/*
 * Byte-order and RFC 1071 checksum helpers shared by the Segmenter (gso.c) and the Coalescer
 * (gro.c). Everything reads and writes through memcpy: packet fields are never aligned.
 */
#ifndef SLICENET_PACKET_H
#define SLICENET_PACKET_H
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get16(const uint8_t *p) {
  uint16_t be;
  memcpy(&be, p, 2);
  return ntohs(be);
}

static inline uint32_t get32(const uint8_t *p) {
  uint32_t be;
  memcpy(&be, p, 4);
  return ntohl(be);
}

static inline void put16(uint8_t *p, uint16_t host) {
  uint16_t be = htons(host);
  memcpy(p, &be, 2);
}

/* Ones'-complement sum of n bytes in memory order (RFC 1071: byte order independent). */
static inline uint64_t sum_bytes(uint64_t sum, const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    sum += (uint64_t)a + b;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a;
    memcpy(&a, p, 4);
    sum += a;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t a;
    memcpy(&a, p, 2);
    sum += a;
    p += 2;
    n -= 2;
  }
  if (n) {
    uint16_t a = 0;
    memcpy(&a, p, 1);
    sum += a;
  }
  return sum;
}

/* The sum folded to 16 bits, not complemented: what a CHECKSUM_PARTIAL field holds. */
static inline uint16_t csum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

/* The Internet checksum of a sum: folded and complemented, as it goes on the wire. */
static inline uint16_t csum(uint64_t sum) { return (uint16_t)~csum_fold(sum); }

#endif
