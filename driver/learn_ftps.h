/* learn_ftps.h - the FTPS mapper: an FTPS server as a learn_sul (model/learn.h).
 *
 * One query is one fresh connection (in-process: a fresh session and VFS):
 * the word of abstract inputs becomes a client script (.fts steps, one
 * concrete form per input of model/learn_alphabet.h, each preceded by a
 * "# learn: input K" marker comment the runner copies), the script is
 * played with play_script (in-process or TCP), and the recorded transcript
 * is cut at the markers and mapped back to one abstract output per input:
 * - the reply codes the input caused, in order, joined by '.' (a multi-line
 *   reply counts once: "150.226");
 * - the runner's events, each after a '+' ("200+tls_shutdown", "hs_fail"):
 *   hs_ok, hs_fail, tls_shutdown, tls_plain (a plaintext reply where TLS
 *   was due), tls_error, tls_unterm, timeout (also an in-process handshake
 *   the server left stalled: over TCP that is a timeout), limit, in stream
 *   order; then
 *   the data connection's events (data_tls, data_clear, data_fail) after
 *   all of them ("150.226+data_tls", "522+data_clear"): the data
 *   connection is another TCP connection, so where its end falls among the
 *   replies is timing, not behaviour (the runner reads it before the next
 *   input: runner.h "Over TCP");
 * - "-" when the input caused nothing (a command pipelined into the TLS
 *   stream, a skipped step);
 * - "closed" for every input after the connection closed, "gave_up" after
 *   the client gave up (a TLS error, a stalled handshake, a timeout): both
 *   are sinks (learn_sul.is_sink_output). The close itself is not part of
 *   the output of the input it followed (QUIT is "221", the next input
 *   "closed"): over TCP whether a close arrives before a query ends is a
 *   matter of timing, and the output of an input must not depend on
 *   whether more inputs follow it.
 * Data sizes and hashes are left out (the machine is about the protocol).
 * The replies a HANDSHAKE input gets before its handshake ends are left out
 * too: a ClientHello sent where no TLS was due is read as command lines,
 * and how many depends on where its random bytes hold an LF, so they would
 * make the server look non-deterministic.
 *
 * In-process the runner ends a query whose client is left waiting on a
 * quiescent server with "timeout", as over TCP (runner_options.
 * stall_is_timeout): a server stuck in a transfer (150, then waiting for a
 * data handshake the client never starts) queues every later command.
 * Over TCP every query is a new control connection, paced at |rate| per
 * second; the runner's step timeout applies. With |concurrency| > 1 the
 * SUL answers the learner's batches (learn_sul.query_batch) on that many
 * threads, each playing one query at a time, the pacing shared; the
 * answers are mapped to outputs afterwards in the batch's order, so output
 * ids do not depend on which connection finished first. The diff's
 * replays use the same threads (learn_ftps_play_batch). In-process there
 * is no query_batch: a query costs microseconds. Concrete arguments: the
 * account's name and password (in-process: the built-in alice/wonderland),
 * a name no account has, a wrong password, the fixture file for RETR/RNFR
 * (in-process /pub/hello.txt; over TCP pub/hello.txt in the login's
 * directory, which the user provides), an upload to /upload/learn.txt
 * in-process and to ftpsfuzz-learn.txt (the login's directory) over TCP. */
#ifndef LEARN_FTPS_H
#define LEARN_FTPS_H

#include <stdbool.h>
#include <stddef.h>

#include "learn.h"
#include "learn_alphabet.h"
#include "play.h"
#include "transcript.h"

/* Most distinct outputs one learner interns (bounds memory on a noisy server). */
#define LEARN_FTPS_OUTPUTS_MAX 4096u
/* Longest output name (longer ones are cut, ending in "..."). */
#define LEARN_FTPS_OUTPUT_LEN 96u

typedef struct learn_ftps_options {
  play_target target;          /* in-process server or host/port */
  runner_options run;          /* timeout, TLS versions, settle (TCP) */
  const char *user, *pass;     /* the account; NULL: the built-in one */
  const learn_alphabet *alphabet;
  double rate;                 /* TCP: new connections per second overall; 0 = unlimited */
  unsigned concurrency;        /* TCP: queries of a batch played at once,
                                * 1..LEARN_FTPS_CONCURRENCY_MAX (0 = 1) */
} learn_ftps_options;

#define LEARN_FTPS_CONCURRENCY_MAX 16u

typedef struct learn_ftps learn_ftps;

/* learn_ftps_new makes a mapper for |o| (copied; the alphabet, target and
 * strings must outlive it). Returns NULL when out of memory. */
learn_ftps *learn_ftps_new(const learn_ftps_options *o);
void learn_ftps_free(learn_ftps *m); /* accepts NULL */

/* learn_ftps_sul returns the learn_sul view of |m| (query, names, sinks). */
learn_sul learn_ftps_sul(learn_ftps *m);

/* learn_ftps_script appends the client script of |word| (inputs are
 * indices into the alphabet) to |out|: for each input its marker comment,
 * then its steps. Returns 0 or -1 (out of memory, a bad index). */
int learn_ftps_script(const learn_ftps *m, const learn_sym *word, size_t n, transcript *out);

/* learn_ftps_marker_step returns the index in |got| (a played transcript)
 * of input |k|'s marker comment, or got->n when there is none. */
size_t learn_ftps_marker_step(const transcript *got, size_t k);

/* learn_ftps_map writes the output of each of the |n| inputs of |word|,
 * played as |got|, into |out| (interned in |m|). Returns 0 or -1 (too many
 * distinct outputs, out of memory). */
int learn_ftps_map(learn_ftps *m, const learn_sym *word, const transcript *got, size_t n,
                   learn_out *out);

/* learn_ftps_play plays |word| as one query (paced, counted like the
 * learner's) into |got| (an initialised transcript) and, when |jc| is not
 * NULL, judges it (play_script). Returns play_script's value; |*res| is
 * always filled (play_result_cleanup). */
int learn_ftps_play(learn_ftps *m, const learn_sym *word, size_t n, const judge_config *jc,
                    transcript *got, play_result *res, char *err, size_t err_len);

/* One play of learn_ftps_play_batch: the word in, the rest out. */
typedef struct learn_ftps_job {
  const learn_sym *word;
  size_t n;          /* 0: nothing is played (rc 0, |got| empty) */
  transcript got;    /* initialised by learn_ftps_play_batch */
  play_result res;   /* always filled */
  int rc;            /* learn_ftps_play's value */
  char err[256];     /* its message when rc < 0 */
} learn_ftps_job;

/* learn_ftps_play_batch plays jobs[0..count) as learn_ftps_play does (each
 * on its own connection, paced and counted, judged with |jc| unless NULL):
 * over TCP up to |concurrency| at once, each thread with its own
 * transcript, runner and oracle (|jc| is only read; its cover_fn, if any,
 * is then called from those threads), in-process one after another. The
 * jobs finish in any order; each one's result is its own. Every job's
 * |got| and |res| are set, also when one fails: release them with
 * learn_ftps_job_cleanup. */
void learn_ftps_play_batch(learn_ftps *m, const judge_config *jc, learn_ftps_job *jobs,
                           size_t count);
void learn_ftps_job_cleanup(learn_ftps_job *j);

/* learn_ftps_output_name / learn_ftps_input_name: the texts of an output id
 * and of an input index ("" if out of range). */
const char *learn_ftps_output_name(const learn_ftps *m, learn_out o);
const char *learn_ftps_input_name(const learn_ftps *m, learn_sym i);

/* learn_ftps_is_sink: |o| is "closed" or "gave_up" (the input was not
 * played). */
bool learn_ftps_is_sink(const learn_ftps *m, learn_out o);

/* learn_ftps_plays: connections (plays) made so far (thread-safe). */
size_t learn_ftps_plays(const learn_ftps *m);

/* learn_ftps_has_steps: every alphabet input has a concrete form (a test
 * keeps model/learn_alphabet.c and the mapper in step). */
bool learn_ftps_has_steps(const char *name);

#endif
