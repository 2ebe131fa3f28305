/* fuzz_sequence.c - model-guided sequences: a binary transcript (client
 * steps) played against the in-process server with the built-in TLS client
 * and data connections; the oracle judges every step.
 *
 * Targets: runner_run (driver/), the whole session core behind it
 * (ftps_session_* incl. TLS on control and data connections, the command
 * table and handlers, the VFS), and the oracle (oracle_step).
 *
 * Input: the binary tagged form of DESIGN section 4. S:/E: steps in the
 * input are ignored (they would be expectations); "# config:" comments set
 * the server policy for this input (ccc, tls_login, ...), and the oracle
 * judges against the matching model policy.
 *
 * A finding: any oracle violation (abort with the violation and the full
 * transcript), plus the sanitizers' usual ones.
 *
 * Custom mutator: model-aware operators (model/mutate.h) on the steps, and
 * libFuzzer's byte mutator on the payload of one step. The same operators
 * serve AFL++ through afl_mutator_sequence.c.
 *
 * FTPSFUZZ_TRANSITIONS_GOAL=FILE: stop once every transition named in FILE
 * was taken, reporting after how many inputs and seconds (transition_goal.h;
 * bench/bench_fuzz.sh uses it to race the mutators). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_driver.h"
#include "model.h"
#include "mutate.h"
#include "oracle.h"
#include "play.h"
#include "sequence_mutator.h"
#include "state_feedback.h"
#include "tls_client.h"
#include "transition_goal.h"

/* Bounds that keep one input cheap: a script longer than this is cut (the
 * mutator never writes more, mutate.h). */
#define MAX_CLIENT_STEPS MUTATE_CLIENT_STEPS_MAX

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_config();
  if (tls_client_ctx() == NULL) {
    fprintf(stderr, "fuzz_sequence: cannot build the TLS client context\n");
    abort();
  }
  fuzz_fast_tls(); /* abbreviated TLS 1.2 handshakes (fuzz_driver.h) */
  transition_goal_init();
  return 0;
}

/* Keeps client steps and comments (config directives), at most
 * MAX_CLIENT_STEPS client steps. */
static int client_script(const transcript *in, transcript *out) {
  size_t client = 0;
  for (size_t i = 0; i < in->n; i++) {
    const transcript_step *st = &in->steps[i];
    if (st->kind == TRANSCRIPT_S || st->kind == TRANSCRIPT_E || st->kind == TRANSCRIPT_BLANK)
      continue;
    if (st->kind != TRANSCRIPT_COMMENT && ++client > MAX_CLIENT_STEPS)
      break;
    if (transcript_add(out, st->kind, st->data, st->len) != 0)
      return -1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  transcript in, script, out;
  char err[256];
  play_result pr;
  memset(&pr, 0, sizeof(pr));
  transcript_init(&in);
  transcript_init(&script);
  transcript_init(&out);
  if (transcript_decode_binary(&in, data, size, err, sizeof(err)) != 0 ||
      client_script(&in, &script) != 0)
    goto out;

  /* The one play-and-judge path (driver/play.h): the input's "# config:"
   * lines set the server's policy and the model's; the account's real
   * password is the secret no reply may contain. */
  play_target target = {.server = fuzz_config()};
  judge_config jc = play_judge_config(&target);
  state_feedback_cover_fn(&jc.cover_fn, &jc.cover_ctx);
  if (play_script(&target, NULL, &jc, &script, "input", &out, &pr, err, sizeof(err)) < 0)
    goto out;
  if (pr.judged.violations > 0) {
    char why[1024];
    const oracle_violation *v = oracle_violation_at(pr.judged.o, 0);
    oracle_format_violation(v, why, sizeof(why));
    fuzz_finding(oracle_invariant_name(v->inv), why, &out);
  }
out:
  transition_goal_input_done();
  play_result_cleanup(&pr);
  transcript_cleanup(&in);
  transcript_cleanup(&script);
  transcript_cleanup(&out);
  return 0;
}

/* --- libFuzzer custom mutator ---------------------------------------- */

/* FTPS_SEQUENCE_BYTES_ONLY builds the same harness without it (target
 * fuzz_sequence_bytes): libFuzzer 14 has no flag to switch a custom mutator
 * off, and bench/bench_fuzz.sh races the two. */
#ifndef FTPS_SEQUENCE_BYTES_ONLY

/* libFuzzer's own byte mutator; weak so replay builds link without it. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  return sequence_mutate(data, size, max_size, seed, LLVMFuzzerMutate);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed) {
  return mutate_crossover(data1, size1, data2, size2, out, max_out_size, seed);
}
#endif
