/* afl_mutator_sequence.c - fuzz_sequence's model-aware mutator as an AFL++
 * custom mutator library (AFL_CUSTOM_MUTATOR_LIBRARY).
 *
 * The same operators as the libFuzzer custom mutator (sequence_mutator.h),
 * without libFuzzer's byte mutator: AFL++ keeps running its own havoc stages
 * alongside (AFL_CUSTOM_MUTATOR_ONLY unset). Built with the plain compiler
 * and no sanitizers, since afl-fuzz loads it into itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutate.h"
#include "sequence_mutator.h"

typedef struct afl_mutator {
  unsigned seed;
  uint8_t *buf;
  size_t cap;
} afl_mutator;

/* The AFL++ 4.x custom mutator interface (include/afl-mutations.h is not
 * shipped by Debian's afl++; these are its documented signatures). */
void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed) {
  (void)afl;
  afl_mutator *m = calloc(1, sizeof(*m));
  if (m)
    m->seed = seed;
  return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size) {
  afl_mutator *m = data;
  if (max_size > m->cap) {
    uint8_t *nb = realloc(m->buf, max_size);
    if (!nb) {
      *out_buf = buf; /* unchanged input: AFL++ goes on */
      return buf_size;
    }
    m->buf = nb;
    m->cap = max_size;
  }
  /* A simple LCG step per call keeps runs reproducible from AFL's seed. */
  m->seed = m->seed * 1103515245u + 12345u;
  size_t n;
  if (add_buf && add_buf_size && (m->seed >> 16) % 4 == 0) {
    n = mutate_crossover(buf, buf_size, add_buf, add_buf_size, m->buf, max_size, m->seed);
  } else {
    n = buf_size < max_size ? buf_size : max_size;
    memcpy(m->buf, buf, n);
    n = sequence_mutate(m->buf, n, max_size, m->seed, NULL);
  }
  *out_buf = m->buf;
  return n;
}

void afl_custom_deinit(void *data) {
  afl_mutator *m = data;
  if (m)
    free(m->buf);
  free(m);
}
