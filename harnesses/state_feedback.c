/* state_feedback.c - see state_feedback.h.
 *
 * One case per key, each with an inline asm statement carrying a distinct
 * immediate: the compiler cannot merge the cases into one arithmetic
 * expression or a lookup table, so each stays a separate instrumented block. */
#include "state_feedback.h"

#include "model.h"
#include "transition_goal.h"

_Static_assert(MODEL_ROW_COUNT <= 128, "state_feedback keys hold the row in 7 bits");

#define K1(n) \
  case (n): \
    __asm__ volatile("" ::"i"(n)); \
    break;
#define K4(n) K1(n) K1((n) + 1) K1((n) + 2) K1((n) + 3)
#define K16(n) K4(n) K4((n) + 4) K4((n) + 8) K4((n) + 12)
#define K64(n) K16(n) K16((n) + 16) K16((n) + 32) K16((n) + 48)
#define K256(n) K64(n) K64((n) + 64) K64((n) + 128) K64((n) + 192)
#define K1024(n) K256(n) K256((n) + 256) K256((n) + 512) K256((n) + 768)

void state_feedback_hit(unsigned key) {
  switch (key & (STATE_FEEDBACK_KEYS - 1)) {
    K1024(0)
    K1024(1024)
    K1024(2048)
    K1024(3072)
  default:
    break;
  }
}

/* key = row (7 bits) | sec (2) | login (2) | prot (1): 12 bits. */
static void on_row(void *ctx, const oracle *o, int row) {
  (void)ctx;
  const model_state *st = oracle_state(o);
  unsigned key = ((unsigned)row & 127u) << 5;
  key |= ((unsigned)st->sec & 3u) << 3;
  key |= ((unsigned)st->login & 3u) << 1;
  key |= st->prot == MODEL_PROT_P ? 1u : 0u;
  state_feedback_hit(key);
  transition_goal_row(row);
}

void state_feedback_attach(oracle *o) { oracle_set_cover_fn(o, on_row, NULL); }

void state_feedback_cover_fn(oracle_cover_fn *out_fn, void **out_ctx) {
  *out_fn = on_row;
  *out_ctx = NULL;
}
