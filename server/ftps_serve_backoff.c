/* ftps_serve_backoff.c - the back-off after failed logins (see
 * ftps_serve_int.h).
 *
 * Failures are counted per client address and per account name (any name,
 * known or not, so the delay never tells which names exist). Past a few
 * free failures (3 per address, 5 per account), the next check of that key
 * waits 100 ms, doubling with each failure up to the cap; while a key has
 * failures, its checks are also spaced by that delay (serve_backoff_space),
 * so parallel connections do not multiply the guesses. A key is forgotten
 * 10 minutes after its last failure; a success clears its account. Two
 * fixed tables (memory does not grow with the attack): a seeded hash, a
 * short probe window, the stalest entry of the window replaced when full. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ftps_serve_int.h"

#define BACKOFF_SLOTS 1024         /* per table; a power of two */
#define BACKOFF_PROBE 8
#define BACKOFF_BASE_MS 100
#define BACKOFF_FORGET_MS (10u * 60u * 1000u)
#define BACKOFF_FREE_ADDR 3        /* failures from an address before delays */
#define BACKOFF_FREE_ACCOUNT 5     /* failures on an account before delays */
#define BACKOFF_NAME_MAX 64

typedef struct backoff_key {
  uint8_t len;
  uint8_t b[BACKOFF_NAME_MAX + 1];
} backoff_key;

typedef struct backoff_entry {
  backoff_key key;         /* len 0 = free slot */
  uint32_t failures;
  uint64_t last_fail;
  uint64_t next_ok;        /* no check for this key before */
} backoff_entry;

struct serve_backoff {
  uint32_t cap_ms;         /* 0 = no back-off */
  uint64_t seed;
  backoff_entry addr[BACKOFF_SLOTS];
  backoff_entry account[BACKOFF_SLOTS];
};

static uint64_t key_hash(const serve_backoff *B, const backoff_key *k) {
  uint64_t h = 1469598103934665603ull ^ B->seed; /* FNV-1a, seeded */
  for (unsigned i = 0; i < k->len; i++)
    h = (h ^ k->b[i]) * 1099511628211ull;
  return h ^ (h >> 29);
}

static void addr_key(const ftps_addr *a, backoff_key *k) {
  k->len = 17;
  k->b[0] = a->family;
  memcpy(k->b + 1, a->ip, 16);
}

static void name_key(const char *name, backoff_key *k) {
  size_t n = strlen(name);
  if (n > BACKOFF_NAME_MAX)
    n = BACKOFF_NAME_MAX;
  k->len = (uint8_t)(n + 1);
  k->b[0] = 0xff; /* "" is a key too */
  memcpy(k->b + 1, name, n);
}

/* Finds |k|'s entry; with |create|, takes a free, forgotten or the stalest
 * slot of its probe window. */
static backoff_entry *backoff_find(const serve_backoff *B, backoff_entry *table,
                                   const backoff_key *k, uint64_t now, bool create) {
  uint64_t h = key_hash(B, k);
  backoff_entry *victim = NULL;
  bool victim_free = false;
  for (unsigned i = 0; i < BACKOFF_PROBE; i++) {
    backoff_entry *e = &table[(h + i) & (BACKOFF_SLOTS - 1)];
    if (e->key.len == k->len && memcmp(e->key.b, k->b, k->len) == 0)
      return e;
    bool free_slot = e->key.len == 0 || now - e->last_fail > BACKOFF_FORGET_MS;
    if (free_slot && !victim_free) {
      victim = e;
      victim_free = true;
    } else if (!victim_free && (!victim || e->last_fail < victim->last_fail)) {
      victim = e;
    }
  }
  if (!create)
    return NULL;
  memset(victim, 0, sizeof(*victim));
  victim->key = *k;
  return victim;
}

static uint64_t backoff_delay(const serve_backoff *B, uint32_t failures, uint32_t free_n) {
  uint64_t cap = B->cap_ms;
  if (cap == 0 || failures <= free_n)
    return 0;
  uint32_t shift = failures - free_n - 1;
  if (shift > 20)
    shift = 20;
  uint64_t d = (uint64_t)BACKOFF_BASE_MS << shift;
  return d < cap ? d : cap;
}

static bool live(const backoff_entry *e, uint64_t now) {
  return e && now - e->last_fail <= BACKOFF_FORGET_MS;
}

uint64_t serve_backoff_due(serve_backoff *B, const ftps_addr *peer, const char *user,
                           uint64_t now) {
  if (B->cap_ms == 0)
    return now;
  backoff_key k;
  uint64_t due = now;
  addr_key(peer, &k);
  backoff_entry *e = backoff_find(B, B->addr, &k, now, false);
  if (live(e, now) && e->next_ok > due)
    due = e->next_ok;
  name_key(user, &k);
  e = backoff_find(B, B->account, &k, now, false);
  if (live(e, now) && e->next_ok > due)
    due = e->next_ok;
  return due;
}

bool serve_backoff_addr_failed(serve_backoff *B, const ftps_addr *peer, uint64_t now) {
  backoff_key k;
  addr_key(peer, &k);
  backoff_entry *e = backoff_find(B, B->addr, &k, now, false);
  return live(e, now) && e->failures;
}

void serve_backoff_space(serve_backoff *B, const ftps_addr *peer, const char *user,
                         uint64_t now) {
  backoff_key k;
  addr_key(peer, &k);
  backoff_entry *e = backoff_find(B, B->addr, &k, now, false);
  uint64_t d;
  if (e && (d = backoff_delay(B, e->failures, BACKOFF_FREE_ADDR)) && e->next_ok < now + d)
    e->next_ok = now + d;
  name_key(user, &k);
  e = backoff_find(B, B->account, &k, now, false);
  if (e && (d = backoff_delay(B, e->failures, BACKOFF_FREE_ACCOUNT)) && e->next_ok < now + d)
    e->next_ok = now + d;
}

static void backoff_fail(serve_backoff *B, backoff_entry *table, const backoff_key *k,
                         uint32_t free_n, uint64_t now) {
  backoff_entry *e = backoff_find(B, table, k, now, true);
  if (now - e->last_fail > BACKOFF_FORGET_MS)
    e->failures = 0;
  if (e->failures < UINT32_MAX)
    e->failures++;
  e->last_fail = now;
  uint64_t d = backoff_delay(B, e->failures, free_n);
  if (e->next_ok < now + d)
    e->next_ok = now + d;
}

void serve_backoff_record(serve_backoff *B, const ftps_addr *peer, const char *user, bool ok,
                          uint64_t now) {
  if (B->cap_ms == 0)
    return;
  backoff_key k;
  name_key(user, &k);
  if (ok) {
    backoff_entry *e = backoff_find(B, B->account, &k, now, false);
    if (e)
      memset(e, 0, sizeof(*e));
    return;
  }
  backoff_fail(B, B->account, &k, BACKOFF_FREE_ACCOUNT, now);
  addr_key(peer, &k);
  backoff_fail(B, B->addr, &k, BACKOFF_FREE_ADDR, now);
}

serve_backoff *serve_backoff_new(uint32_t cap_ms) {
  serve_backoff *B = calloc(1, sizeof(*B));
  if (!B)
    return NULL;
  B->cap_ms = cap_ms;
  RAND_bytes((uint8_t *)&B->seed, sizeof(B->seed));
  return B;
}

void serve_backoff_free(serve_backoff *B) { free(B); }
