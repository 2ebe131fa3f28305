/* mutate_internal.h - shared by mutate.c, mutate_policy.c (the policy
 * step) and mutate_path.c (path arguments). Not part of the contract in mutate.h. */
#ifndef MUTATE_INTERNAL_H
#define MUTATE_INTERNAL_H

#include <stddef.h>

#include "gen.h"
#include "transcript.h"

/* mutate_op_policy is the POLICY operator (mutate.h): it reads the keys
 * every "# config:" step of |t| sets (later ones win; keys and values it
 * does not write are dropped, which also repairs a step the harness would
 * refuse), then changes the policy they set: adds a key at a value other
 * than the default, gives a present key another value, or removes a key set
 * away from its default; and writes the result as one
 * policy step at index 0 (none if no key is left). Always applicable.
 * Returns MUTATE_APPLIED or MUTATE_ERR_NOMEM (|t| is then still valid,
 * possibly without its policy step). */
int mutate_op_policy(transcript *t, gen_rng *rng);

/* mutate_policy_to_front moves the policy steps of |t| to its start,
 * keeping their order and that of the other steps (the harness applies
 * them before the first step is played, wherever they are), and returns
 * how many there are. */
size_t mutate_policy_to_front(transcript *t);

/* mutate_op_path is the PATH operator (mutate.h): the argument of one
 * command that takes a path (RETR, STOR, RNTO, ...) becomes a name of a
 * boundary length (1 to 1500 bytes), an odd shape ("..", "a b", "%s%n",
 * UTF-8) or a deep one, in the directory the old argument named. Returns
 * MUTATE_APPLIED, MUTATE_NOT_APPLICABLE (no such command) or
 * MUTATE_ERR_NOMEM (|t| unchanged). */
int mutate_op_path(transcript *t, gen_rng *rng);

#endif
