/* state_feedback.c - see state_feedback.h.
 *
 * One case per key, each with an inline asm statement carrying a distinct
 * immediate: the compiler cannot merge the cases into one arithmetic
 * expression or a lookup table, so each stays a separate instrumented block. */
#include "state_feedback.h"

#include <stdbool.h>
#include <stddef.h>

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
    K1024(4096)
    K1024(5120)
    K1024(6144)
    K1024(7168)
  default:
    break;
  }
}

#define BANK_POLICY_ROW 4096u /* + row (7 bits) << 4 | policy (4) */
#define BANK_POLICY 6144u     /* + policy (4) */

_Static_assert(BANK_POLICY + 16u <= STATE_FEEDBACK_KEYS, "the banks fit the keys");


/* policy_row[r]: row r's outcome depends on the policy. Computed once. */
static bool policy_row[MODEL_ROW_COUNT];
static bool policy_row_ready;

/* narrow_applies: narrow |n| can apply to the events of row |r|. */
static bool narrow_applies(const model_narrow *n, const model_row *r) {
  if (n->event == r->event)
    return true;
  if (n->event != MODEL_EV_ANY)
    return r->event == MODEL_EV_ANY && (r->guard.evf == 0 ||
                                        (model_event_flags(n->event) & r->guard.evf) != 0);
  if (r->event == MODEL_EV_ANY)
    return n->guard.evf == 0 || r->guard.evf == 0 || (n->guard.evf & r->guard.evf) != 0;
  return n->guard.evf == 0 || (model_event_flags(r->event) & n->guard.evf) != 0;
}

static void find_policy_rows(void) {
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++) {
    const model_row *row = &model_rows[r];
    bool dep = (row->guard.pol_on | row->guard.pol_off) != 0;
    for (size_t i = 0; i < model_narrow_count && !dep; i++) {
      const model_narrow *n = &model_narrows[i];
      dep = (n->guard.pol_on | n->guard.pol_off) != 0 && narrow_applies(n, row);
    }
    policy_row[r] = dep;
  }
  policy_row_ready = true;
}

/* key = row (7 bits) | sec (2) | login (2) | prot (1): 12 bits. */
static unsigned policy_bits(const model_policy *p) {
  return (p->tls_login ? 1u : 0u) | (p->tls_data ? 2u : 0u) | (p->anon ? 4u : 0u) |
         (p->ccc ? 8u : 0u);
}

static void on_row(void *ctx, const oracle *o, int row) {
  (void)ctx;
  if (!policy_row_ready)
    find_policy_rows();
  /* the policy the oracle judges against: the input's "# config:" lines */
  unsigned policy = policy_bits(&oracle_config(o)->policy);
  state_feedback_hit(BANK_POLICY + policy);
  const model_state *st = oracle_state(o);
  unsigned key = ((unsigned)row & 127u) << 5;
  key |= ((unsigned)st->sec & 3u) << 3;
  key |= ((unsigned)st->login & 3u) << 1;
  key |= st->prot == MODEL_PROT_P ? 1u : 0u;
  state_feedback_hit(key);
  if (row >= 0 && (size_t)row < MODEL_ROW_COUNT && policy_row[row])
    state_feedback_hit(BANK_POLICY_ROW + ((((unsigned)row & 127u) << 4) | policy));
  transition_goal_row(row);
}

void state_feedback_attach(oracle *o) { oracle_set_cover_fn(o, on_row, NULL); }

void state_feedback_cover_fn(oracle_cover_fn *out_fn, void **out_ctx) {
  *out_fn = on_row;
  *out_ctx = NULL;
}
