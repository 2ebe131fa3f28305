/* learn.h - active automata learning of Mealy machines (the abstract side).
 *
 * A system under learning (SUL) answers output queries: after a reset, it
 * is fed a word of abstract inputs and gives one abstract output per input.
 * Inputs are indices into the SUL's alphabet; outputs are small integers the
 * SUL interns (output_name gives their text, e.g. "234" or "421+closed").
 * The learner keeps every answer in an observation tree, so no query is sent
 * twice, and returns a hypothesis once equivalence testing finds no
 * counterexample within its bounds.
 *
 * The concrete side (driver/: the mapper from abstract inputs to FTPS bytes
 * and events, the in-process and TCP targets) implements learn_sul; the
 * learner never sees bytes. */
#ifndef LEARN_H
#define LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors (one space with model/'s other functions: negative). */
enum {
  LEARN_OK = 0,
  LEARN_ERR_NOMEM = -1,
  LEARN_ERR_INVAL = -2,
  LEARN_ERR_SUL = -3,      /* the SUL could not answer (message in err) */
  LEARN_ERR_BUDGET = -4,   /* max_queries or max_seconds reached: the result is
                            * the last hypothesis, not a verified one */
  LEARN_ERR_NONDET = -5,   /* a word never got a majority answer (the SUL is
                            * not deterministic there; the word in err and in
                            * learn_stats.nondet_first): the result is the last
                            * hypothesis, not a verified one */
};

typedef uint16_t learn_sym; /* an input: index < learn_sul.n_inputs */
typedef uint32_t learn_out; /* an output id, interned by the SUL */

typedef struct learn_sul {
  void *ctx;
  size_t n_inputs;
  const char *(*input_name)(void *ctx, learn_sym i);
  const char *(*output_name)(void *ctx, learn_out o);
  /* query: reset the SUL, feed word[0..n), write n outputs to out[0..n).
   * Every input gets an output, also after the SUL stopped listening (a
   * closed connection answers a "closed" output). Returns 0, or negative
   * (message in |err|) on an error that ends learning. */
  int (*query)(void *ctx, const learn_sym *word, size_t n, learn_out *out, char *err,
               size_t err_len);
  /* Domain knowledge, optional (NULL = none): true when output |o| means
   * the SUL is in a sink from which every input answers |o| again (a closed
   * connection stays closed), so the learner need not ask what follows. */
  bool (*is_sink_output)(void *ctx, learn_out o);
  /* Needed only with learn_config.cache_path (NULL = none): the id of the
   * output named |name|, interned if new, so answers read back from the
   * cache file (which stores names) map to this SUL's ids. Returns 0 and
   * sets |*o|, or negative if the name cannot be an output. */
  int (*output_id)(void *ctx, const char *name, learn_out *o);
  /* Optional (NULL = the learner sends query() one word at a time): answer
   * words[0..count) at once, word j (lens[j] inputs) into outs[j], each as
   * query() would. The SUL may answer them in any order and concurrently
   * (over TCP: one connection each, several at a time); each answer must be
   * as if from a fresh reset. Returns 0, or negative (message in |err|) on
   * an error that ends learning. The learner batches the words of a
   * learning step (L#'s extension and separation, L*'s table filling) and
   * equivalence tests, and uses the answers exactly as if it had asked one
   * at a time. */
  int (*query_batch)(void *ctx, size_t count, const learn_sym *const *words, const size_t *lens,
                     learn_out *const *outs, char *err, size_t err_len);
} learn_sul;

/* A complete deterministic Mealy machine; state 0 is initial. learn_run
 * numbers the states breadth-first from it (inputs in alphabet order), so
 * a machine comes out the same whichever algorithm learned it. */
typedef struct learn_mealy {
  size_t n_states, n_inputs;
  uint32_t *next;      /* [state * n_inputs + input] */
  learn_out *out;      /* [state * n_inputs + input] */
  learn_sym **access;  /* a shortest input word reaching each state */
  size_t *access_len;
} learn_mealy;

typedef enum learn_algorithm { LEARN_LSHARP = 0, LEARN_LSTAR = 1 } learn_algorithm;

typedef struct learn_config {
  learn_algorithm algorithm;
  size_t max_queries;        /* 0 = unbounded (queries sent to the SUL) */
  double max_seconds;        /* 0 = unbounded */
  unsigned extra_states;     /* equivalence: Wp-method depth beyond the hypothesis */
  size_t random_tests;       /* equivalence: random Wp words per round */
  uint64_t seed;
  unsigned repeats;          /* non-determinism: a conflicting answer is asked
                              * again this many times and the majority kept */
  bool use_sink;             /* use sul->is_sink_output when given */
  /* Extra counterexample candidates tried before random testing (the
   * model's cover set, the oracle's known-violation probes). */
  const learn_sym *const *candidates;
  const size_t *candidate_len;
  size_t n_candidates;
  const char *cache_path;    /* resumable query cache (read, then appended), or NULL */
  size_t batch;              /* queries sent at once through sul->query_batch
                              * (0 or 1: one at a time), learning steps and
                              * equivalence tests alike */
} learn_config;

typedef struct learn_stats {
  size_t queries, symbols;           /* sent to the SUL (resets, inputs) */
  size_t cache_hits;                 /* answered from the tree or the cache file */
  size_t sink_saved_queries, sink_saved_symbols; /* not sent thanks to is_sink_output */
  size_t eq_queries, rounds;         /* equivalence tests sent; hypotheses made */
  size_t nondet;                     /* answers that disagreed with an earlier one */
  /* The first disagreement: the word up to the input answered two ways,
   * and the two outputs ("WORD: OUT1 | OUT2"); "" when none. */
  char nondet_first[320];
  /* Sent in a batch but never needed (equivalence tests after the
   * counterexample, learning words an earlier answer made needless, or
   * answered meanwhile by sink knowledge): not in
   * queries/symbols, which count what a one-at-a-time run would send. */
  size_t unused_queries, unused_symbols;
  double seconds;
} learn_stats;

/* learn_config_default: L#, no budget, 1 extra state, 1000 random tests,
 * seed 1, 3 repeats, sink knowledge on, no candidates, no cache, batches
 * of 64 queries (used only when the SUL has query_batch). */
learn_config learn_config_default(void);

/* learn_run learns |sul| into |*m| (always initialised; call
 * learn_mealy_free) and fills |*st|. Returns LEARN_OK, LEARN_ERR_BUDGET or
 * LEARN_ERR_NONDET with the last hypothesis in |*m| (0 states if none was
 * made yet), or another error with |err| set and |*m| empty.
 * |cfg| NULL means learn_config_default(); |st| may be NULL.
 *
 * Notes on the configuration: repeats 0 makes any disagreement between
 * two answers fatal (no majority of two). The cache file is text, one
 * answered query a line with input and output names (see learn_cache.c);
 * it is read by name, so an alphabet in another order is fine and another
 * alphabet is refused. Equivalence testing works on the hypothesis
 * renumbered breadth-first, and a round's random words depend only on
 * |seed| and that hypothesis (its output names, not ids), so a resumed run
 * repeats the same tests.
 *
 * Batching (sul->query_batch, cfg->batch > 1) changes wall time only: a
 * learning step lists the words it is about to ask (L#: every missing
 * child of the basis, then every frontier node's separating word; L*: the
 * table's missing cells), an equivalence round the words it tests; of
 * each cfg->batch of them the learner first answers what the tree, sink
 * knowledge and cache know, sends the rest at once and keeps the answers
 * aside; then it asks or tests the words one by one as before (an
 * equivalence round stops at the first counterexample), and an answer
 * kept aside is used when its word is asked. Words listed but not asked
 * after all (an earlier answer made the tree stale, changed a separating
 * word, ended the round) are the unused_* ones. The machine,
 * the hypotheses and the stats (but unused_*) are those of a run without
 * batching. The query budget counts every word sent, used or not: a batch
 * is cut to what is left of it. */
int learn_run(const learn_sul *sul, const learn_config *cfg, learn_mealy *m, learn_stats *st,
              char *err, size_t err_len);

void learn_mealy_free(learn_mealy *m);

#endif
