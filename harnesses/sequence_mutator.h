/* sequence_mutator.h - the structure-aware mutator of fuzz_sequence, shared
 * by its libFuzzer custom mutator and the AFL++ custom mutator library. */
#ifndef SEQUENCE_MUTATOR_H
#define SEQUENCE_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

/* A byte-level mutator for one step's payload (libFuzzer's LLVMFuzzerMutate
 * shape): mutates |data| (|size| bytes, room for |max_size|) in place and
 * returns the new size. */
typedef size_t (*sequence_byte_mutator)(uint8_t *data, size_t size, size_t max_size);

/* sequence_mutate mutates the binary transcript in |data| in place and
 * returns its new size (<= |max_size|; the result always decodes). One time
 * in four, when |bytes| is not NULL, it mutates the payload of one C:/R:/D:
 * step with |bytes| instead of a model-aware operator. Deterministic for a
 * given |seed| and |bytes|. */
size_t sequence_mutate(uint8_t *data, size_t size, size_t max_size, unsigned seed,
                       sequence_byte_mutator bytes);

#endif
