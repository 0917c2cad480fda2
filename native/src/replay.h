#ifndef SLICENET_REPLAY_H
#define SLICENET_REPLAY_H
/*
 * The replay window of a receiving session: slice-gateway/protocol/replay.ts's algorithm
 * (RFC 6479's ring of bitmap blocks), over that ReplayWindow's own 520 bytes, so the fast path
 * and TypeScript see one window. Layout: the highest counter accepted (u64, host order) at 0,
 * then 128 u32 blocks at 8. Tested against the TypeScript window in native/test/fastpath.test.ts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define REPLAY_BYTES 520
#define REPLAY_BLOCKS 128u
#define REPLAY_WINDOW ((REPLAY_BLOCKS - 1) * 32u)
/* WireGuard's REJECT_AFTER_MESSAGES: a counter this high is never accepted. */
#define REPLAY_REJECT_AFTER (UINT64_MAX - (1ull << 13))

static inline uint8_t *replay_block(uint8_t *w, uint64_t c) { return w + 8 + 4 * ((c >> 5) & (REPLAY_BLOCKS - 1)); }

/* Whether counter `c` would be accepted; changes nothing. */
static inline bool replay_may_accept(const uint8_t *w, uint64_t c) {
  uint64_t last;
  uint32_t block;
  memcpy(&last, w, 8);
  if (c >= REPLAY_REJECT_AFTER) return false;
  if (c > last) return true;
  if (last - c > REPLAY_WINDOW) return false;
  memcpy(&block, replay_block((uint8_t *)w, c), 4);
  return (block & (1u << (c & 31))) == 0;
}

/* Accepts counter `c` if it is new: advances the window past it and marks it seen. */
static inline bool replay_accept(uint8_t *w, uint64_t c) {
  if (!replay_may_accept(w, c)) return false;
  uint64_t last;
  memcpy(&last, w, 8);
  if (c > last) {
    uint64_t current = last >> 5, target = c >> 5;
    uint64_t steps = target - current > REPLAY_BLOCKS ? REPLAY_BLOCKS : target - current;
    for (uint64_t i = 1; i <= steps; i++) memset(replay_block(w, (current + i) << 5), 0, 4);
    memcpy(w, &c, 8);
  }
  uint32_t block;
  memcpy(&block, replay_block(w, c), 4);
  block |= 1u << (c & 31);
  memcpy(replay_block(w, c), &block, 4);
  return true;
}
#endif
