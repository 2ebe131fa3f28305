/* gen_cover.c - the cover set: a breadth-first search over the model states
 * a server really reaches (see gen.h), then a greedy set cover, pipelining
 * rewrites and a final measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_internal.h"

#define DEPTH_MAX 40u    /* actions in one script */
#define NODES_MAX 4096u  /* states expanded */
#define PLAYS_MAX 100000u
#define LOOPS_MAX 1024u

typedef struct node {
  model_state st;
  uint16_t path[DEPTH_MAX];
  uint8_t depth;
  size_t n_rows;     /* rows the prefix takes when played */
  size_t data_moved; /* data connections of the prefix that carried bytes */
} node;

#define ACTIONS_MAX 256u

/* A candidate script, what it takes, and the data actions (D: open, then a
 * transfer) it completes: a transfer that moves bytes takes the same row as
 * a refused one, so those actions are a coverage goal of their own. */
typedef struct cand {
  transcript script;
  uint8_t rows[MODEL_ROW_COUNT];
  uint8_t acts[ACTIONS_MAX];
} cand;

typedef struct search {
  const model_config *cfg;
  gen_play_fn play;
  void *ctx;
  gen_cover_stats *stats;
  node *nodes;
  size_t n_nodes;
  uint8_t *known; /* GEN_STATE_COUNT */
  bool once_done[ACTIONS_MAX];
  bool data_done[ACTIONS_MAX]; /* data actions that moved bytes once */
  cand *cands;
  size_t n_cands, cap_cands;
  /* self-loops that took new rows: (node, action), chained per node later */
  struct loop {
    uint32_t node;
    uint16_t action;
  } loops[LOOPS_MAX];
  size_t n_loops;
  gen_play_result res; /* scratch */
} search;

/* --- building scripts --- */

static int add_header(const model_config *cfg, transcript *t) {
  char line[128];
  gen_policy_comment(&cfg->policy, line, sizeof(line));
  return transcript_add(t, TRANSCRIPT_COMMENT, line, strlen(line));
}

static int build(const search *s, const node *nd, int extra, transcript *t) {
  if (add_header(s->cfg, t) != 0)
    return -1;
  for (size_t i = 0; i < nd->depth; i++)
    if (gen_action_append(nd->path[i], t) != 0)
      return -1;
  if (extra >= 0 && gen_action_append((size_t)extra, t) != 0)
    return -1;
  return 0;
}

/* describe writes the client steps of |t| on one line, for messages. */
static void describe(const transcript *t, char *buf, size_t len) {
  size_t off = 0;
  buf[0] = 0;
  for (size_t i = 0; i < t->n && off + 1 < len; i++) {
    const transcript_step *st = &t->steps[i];
    if (st->kind == TRANSCRIPT_COMMENT || st->kind == TRANSCRIPT_BLANK)
      continue;
    int n = snprintf(buf + off, len - off, "%s%c: ", off ? " | " : "",
                     transcript_kind_letter(st->kind));
    if (n < 0 || (size_t)n >= len - off)
      break;
    off += (size_t)n;
    for (size_t k = 0; k < st->len && off + 5 < len; k++) {
      uint8_t c = st->data[k];
      if (c >= 0x20 && c < 0x7f)
        buf[off++] = (char)c;
      else
        off += (size_t)snprintf(buf + off, len - off, "\\x%02x", c);
    }
    buf[off] = 0;
  }
}

static bool is_data_action(size_t a) {
  return gen_actions[a].data_mask == (1u << MODEL_DATA_PASSIVE);
}

static int add_cand(search *s, const transcript *t, const gen_play_result *r, int act) {
  if (s->n_cands == s->cap_cands) {
    size_t cap = s->cap_cands ? s->cap_cands * 2 : 64;
    cand *c = realloc(s->cands, cap * sizeof(*c));
    if (!c)
      return -1;
    s->cands = c;
    s->cap_cands = cap;
  }
  cand *c = &s->cands[s->n_cands];
  transcript_init(&c->script);
  if (gen_copy_steps(&c->script, t) != 0) {
    transcript_cleanup(&c->script);
    return -1;
  }
  memset(c->rows, 0, sizeof(c->rows));
  memset(c->acts, 0, sizeof(c->acts));
  if (act >= 0)
    c->acts[act] = 1;
  for (size_t i = 0; i < r->n_rows; i++)
    if (r->rows[i] < MODEL_ROW_COUNT)
      c->rows[r->rows[i]] = 1;
  s->n_cands++;
  return 0;
}

static bool is_command_row(int row) {
  model_event ev = model_rows[row].event;
  return ev == MODEL_EV_ANY || (ev != MODEL_EV_GREETING && !(model_event_flags(ev) & MODEL_F_CONN));
}

/* worth_trying: the model cannot predict the outcome of action |a| in |nd|:
 * some row it may take is not yet seen, or some state it may lead to is new. */
static bool worth_trying(const search *s, const node *nd, size_t a) {
  const gen_action *act = &gen_actions[a];
  if (!gen_action_applies(s->cfg, a, &nd->st))
    return false;
  if (act->flags & GEN_A_ONCE)
    return !s->once_done[a];
  if (is_data_action(a) && !s->data_done[a])
    return true;
  gen_succ succ[GEN_SUCC_MAX];
  size_t n = gen_successors(s->cfg, &nd->st, act->ev, succ, GEN_SUCC_MAX);
  for (size_t k = 0; k < n; k++)
    if (!s->stats->reachable[succ[k].row] || !s->known[gen_state_index(&succ[k].to)])
      return true;
  return false;
}

/* try_action plays node |ni| + action |a| and learns from it. */
static int try_action(search *s, size_t ni, size_t a) {
  const gen_action *act = &gen_actions[a];
  node nd = s->nodes[ni]; /* copy: s->nodes may not move, but stay safe */
  transcript t;
  transcript_init(&t);
  int rc = -1;
  if (build(s, &nd, (int)a, &t) != 0)
    goto out;
  memset(&s->res, 0, sizeof(s->res));
  if (s->play(s->ctx, &t, &s->res) != 0)
    goto out;
  s->stats->plays++;
  const gen_play_result *r = &s->res;
  rc = 0;
  if (r->violations) {
    /* The server and the model disagree on this path: report it, learn
     * nothing from it. */
    if (!s->stats->disagreement[0]) {
      char steps[600];
      describe(&t, steps, sizeof(steps));
      snprintf(s->stats->disagreement, sizeof(s->stats->disagreement), "%.500s => %.500s", steps,
               r->violation);
    }
    goto out;
  }
  bool fresh = false;
  for (size_t i = 0; i < r->n_rows; i++)
    if (r->rows[i] < MODEL_ROW_COUNT && !s->stats->reachable[r->rows[i]])
      fresh = true;
  bool moved = is_data_action(a) && !s->data_done[a] && r->data_moved > nd.data_moved;
  if (moved)
    s->data_done[a] = true;
  if (fresh || moved) {
    for (size_t i = 0; i < r->n_rows; i++)
      if (r->rows[i] < MODEL_ROW_COUNT)
        s->stats->reachable[r->rows[i]] = true;
    if (add_cand(s, &t, r, moved ? (int)a : -1) != 0) {
      rc = -1;
      goto out;
    }
  }
  if (act->flags & GEN_A_ONCE) {
    for (size_t i = 0; i < r->n_rows; i++)
      if (r->rows[i] == act->goal)
        s->once_done[a] = true;
  }
  /* Extend only from a quiescent, open session: every command of the action
   * was answered and nothing ended the session. */
  unsigned answered = 0;
  for (size_t i = nd.n_rows; i < r->n_rows; i++)
    if (is_command_row(r->rows[i]))
      answered++;
  bool complete = answered >= act->n_cmd && !r->rows_truncated;
  if (fresh && complete && !(act->flags & (GEN_A_TERMINAL | GEN_A_ONCE)) &&
      !memcmp(&r->state, &nd.st, sizeof(nd.st)) && s->n_loops < LOOPS_MAX) {
    s->loops[s->n_loops].node = (uint32_t)ni;
    s->loops[s->n_loops].action = (uint16_t)a;
    s->n_loops++;
  }
  size_t idx = gen_state_index(&r->state);
  if ((act->flags & (GEN_A_TERMINAL | GEN_A_ONCE)) || answered < act->n_cmd ||
      r->rows_truncated || r->state.close != MODEL_OPEN || (unsigned)nd.depth + 1 >= DEPTH_MAX ||
      s->known[idx] || s->n_nodes >= NODES_MAX)
    goto out;
  node *nn = &s->nodes[s->n_nodes++];
  *nn = nd;
  nn->path[nn->depth++] = (uint16_t)a;
  nn->st = r->state;
  nn->n_rows = r->n_rows;
  nn->data_moved = r->data_moved;
  s->known[idx] = 1;
out:
  transcript_cleanup(&t);
  return rc;
}

static int chain_loops(search *s);

static int explore(search *s) {
  transcript t;
  transcript_init(&t);
  node *root = &s->nodes[0];
  memset(root, 0, sizeof(*root));
  int rc = -1;
  if (build(s, root, -1, &t) != 0)
    goto out;
  memset(&s->res, 0, sizeof(s->res));
  if (s->play(s->ctx, &t, &s->res) != 0)
    goto out;
  s->stats->plays++;
  root->st = s->res.state;
  root->n_rows = s->res.n_rows;
  root->data_moved = s->res.data_moved;
  for (size_t i = 0; i < s->res.n_rows; i++)
    if (s->res.rows[i] < MODEL_ROW_COUNT)
      s->stats->reachable[s->res.rows[i]] = true;
  s->known[gen_state_index(&root->st)] = 1;
  s->n_nodes = 1;
  for (size_t ni = 0; ni < s->n_nodes; ni++) {
    for (size_t a = 0; a < gen_action_count; a++) {
      if (s->stats->plays >= PLAYS_MAX)
        break;
      if (worth_trying(s, &s->nodes[ni], a) && try_action(s, ni, a) != 0)
        goto out;
    }
  }
  s->stats->states = s->n_nodes;
  rc = chain_loops(s);
out:
  transcript_cleanup(&t);
  return rc;
}

/* chain_loops: for each node, one script that takes all its self-loops that
 * found new rows one after the other (fewer, longer scripts). Kept as a
 * candidate only if, played, it has no violation. */
static int chain_loops(search *s) {
  for (size_t i = 0; i < s->n_loops;) {
    size_t j = i;
    while (j < s->n_loops && s->loops[j].node == s->loops[i].node)
      j++;
    if (j - i >= 2) {
      transcript t;
      transcript_init(&t);
      int rc = build(s, &s->nodes[s->loops[i].node], -1, &t);
      for (size_t k = i; rc == 0 && k < j; k++)
        rc = gen_action_append(s->loops[k].action, &t);
      if (rc == 0) {
        memset(&s->res, 0, sizeof(s->res));
        rc = s->play(s->ctx, &t, &s->res);
        s->stats->plays++;
      }
      if (rc == 0 && !s->res.violations)
        rc = add_cand(s, &t, &s->res, -1);
      transcript_cleanup(&t);
      if (rc != 0)
        return -1;
    }
    i = j;
  }
  return 0;
}

/* --- pipelining rewrites: the same commands, other write boundaries --- */

/* pipeline_merge puts the first two adjacent mergeable commands in one write. */
static bool pipeline_merge(transcript *t) {
  for (size_t i = 0; i + 1 < t->n; i++) {
    transcript_step *a = &t->steps[i], *b = &t->steps[i + 1];
    if (!gen_step_mergeable(a) || !gen_step_mergeable(b))
      continue;
    if (gen_merge_into(a, b) != 0)
      return false;
    free(b->data);
    memmove(&t->steps[i + 1], &t->steps[i + 2], (t->n - i - 2) * sizeof(*t->steps));
    t->n--;
    return true;
  }
  return false;
}

/* pipeline_split writes the last mergeable command in two raw writes, the
 * line cut in the middle (the server must frame it as one line). */
static bool pipeline_split(transcript *t) {
  for (size_t i = t->n; i-- > 0;) {
    transcript_step *a = &t->steps[i];
    if (!gen_step_mergeable(a) || a->len < 2)
      continue;
    size_t cut = a->len / 2;
    transcript tmp;
    transcript_init(&tmp);
    bool ok = true;
    for (size_t k = 0; ok && k < t->n; k++) {
      const transcript_step *st = &t->steps[k];
      if (k != i) {
        ok = transcript_add(&tmp, st->kind, st->data, st->len) == 0;
        continue;
      }
      uint8_t second[MODEL_LINE_MAX + 2];
      size_t n2 = st->len - cut;
      if (n2 + 2 > sizeof(second)) {
        ok = false;
        break;
      }
      memcpy(second, st->data + cut, n2);
      memcpy(second + n2, "\r\n", 2);
      ok = transcript_add(&tmp, TRANSCRIPT_R, st->data, cut) == 0 &&
           transcript_add(&tmp, TRANSCRIPT_R, second, n2 + 2) == 0;
    }
    if (!ok) {
      transcript_cleanup(&tmp);
      return false;
    }
    transcript_cleanup(t);
    *t = tmp;
    return true;
  }
  return false;
}

/* --- the cover set --- */

long gen_measure(const gen_set *set, gen_play_fn play, void *ctx, bool *covered,
                 size_t *violations, char *first, size_t first_len) {
  gen_play_result *r = malloc(sizeof(*r));
  long n = -1;
  if (!r)
    return -1;
  memset(covered, 0, MODEL_ROW_COUNT * sizeof(*covered));
  *violations = 0;
  if (first && first_len)
    first[0] = 0;
  for (size_t i = 0; i < set->n; i++) {
    memset(r, 0, sizeof(*r));
    if (play(ctx, &set->items[i], r) != 0)
      goto out;
    for (size_t k = 0; k < r->n_rows; k++)
      if (r->rows[k] < MODEL_ROW_COUNT)
        covered[r->rows[k]] = true;
    if (r->violations) {
      if (*violations == 0 && first && first_len)
        snprintf(first, first_len, "script %zu: %s", i + 1, r->violation);
      (*violations)++;
    }
  }
  n = 0;
  for (size_t k = 0; k < MODEL_ROW_COUNT; k++)
    n += covered[k] ? 1 : 0;
out:
  free(r);
  return n;
}

/* rewrite tries a pipelining rewrite of |c|; keeps it only if the rewritten
 * script takes the same rows without a violation. */
static int rewrite(search *s, cand *c, size_t index) {
  transcript t;
  transcript_init(&t);
  int rc = 0;
  if (gen_copy_steps(&t, &c->script) != 0) {
    rc = -1;
    goto out;
  }
  bool changed = (index % 3 == 1) ? pipeline_merge(&t) : (index % 3 == 2) ? pipeline_split(&t)
                                                                          : false;
  if (!changed)
    goto out;
  memset(&s->res, 0, sizeof(s->res));
  if (s->play(s->ctx, &t, &s->res) != 0) {
    rc = -1;
    goto out;
  }
  s->stats->plays++;
  uint8_t rows[MODEL_ROW_COUNT];
  memset(rows, 0, sizeof(rows));
  for (size_t i = 0; i < s->res.n_rows; i++)
    if (s->res.rows[i] < MODEL_ROW_COUNT)
      rows[s->res.rows[i]] = 1;
  if (s->res.violations || memcmp(rows, c->rows, sizeof(rows)) != 0)
    goto out;
  transcript_cleanup(&c->script);
  c->script = t;
  transcript_init(&t);
out:
  transcript_cleanup(&t);
  return rc;
}

/* select_cover picks candidates greedily (most new rows; ties: the earlier,
 * shorter one), rewrites some for pipelining and appends them to |out|. */
static int select_cover(search *s, gen_set *out) {
  uint8_t done[MODEL_ROW_COUNT], acts_done[ACTIONS_MAX];
  memset(done, 0, sizeof(done));
  memset(acts_done, 0, sizeof(acts_done));
  size_t picked = 0;
  for (;;) {
    size_t best = SIZE_MAX, best_gain = 0;
    for (size_t i = 0; i < s->n_cands; i++) {
      size_t gain = 0;
      for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
        gain += (s->cands[i].rows[r] && !done[r]) ? 1 : 0;
      for (size_t a = 0; a < ACTIONS_MAX; a++)
        gain += (s->cands[i].acts[a] && !acts_done[a]) ? 1 : 0;
      if (gain > best_gain) {
        best_gain = gain;
        best = i;
      }
    }
    if (best == SIZE_MAX)
      return 0;
    cand *c = &s->cands[best];
    if (rewrite(s, c, picked) != 0)
      return -1;
    transcript t;
    transcript_init(&t);
    char line[2048];
    size_t off = (size_t)snprintf(line, sizeof(line), " ftpsfuzz gen --cover: script %zu takes",
                                  picked + 1);
    for (size_t r = 0; r < MODEL_ROW_COUNT && off < sizeof(line); r++) {
      if (c->rows[r] && !done[r]) {
        int n = snprintf(line + off, sizeof(line) - off, " %s", model_rows[r].name);
        off += n > 0 ? (size_t)n : 0;
      }
    }
    for (size_t a = 0; a < ACTIONS_MAX && off < sizeof(line); a++)
      if (c->acts[a] && !acts_done[a]) {
        int n = snprintf(line + off, sizeof(line) - off, " (a %s transfer)",
                         model_event_name(gen_actions[a].ev));
        off += n > 0 ? (size_t)n : 0;
      }
    if (off >= sizeof(line))
      off = sizeof(line) - 1;
    int rc = transcript_add(&t, TRANSCRIPT_COMMENT, line, off);
    if (rc == 0)
      rc = gen_copy_steps(&t, &c->script);
    if (rc == 0)
      rc = gen_set_add(out, &t);
    transcript_cleanup(&t);
    if (rc != 0)
      return -1;
    for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
      done[r] |= c->rows[r];
    for (size_t a = 0; a < ACTIONS_MAX; a++)
      acts_done[a] |= c->acts[a];
    picked++;
  }
}

int gen_cover(const model_config *cfg, gen_play_fn play, void *ctx, gen_set *out,
              gen_cover_stats *stats) {
  search *s = calloc(1, sizeof(*s));
  int rc = -1;
  memset(stats, 0, sizeof(*stats));
  if (!s)
    return -1;
  s->cfg = cfg;
  s->play = play;
  s->ctx = ctx;
  s->stats = stats;
  s->nodes = calloc(NODES_MAX, sizeof(*s->nodes));
  s->known = calloc(GEN_STATE_COUNT, 1);
  if (!s->nodes || !s->known || gen_action_count > ACTIONS_MAX)
    goto out;
  long nm = gen_model_reachable(cfg, stats->model);
  if (nm < 0)
    goto out;
  stats->n_model = (size_t)nm;
  if (explore(s) != 0)
    goto out;
  for (size_t r = 0; r < MODEL_ROW_COUNT; r++)
    stats->n_reachable += stats->reachable[r] ? 1 : 0;
  size_t first = out->n;
  if (select_cover(s, out) != 0)
    goto out;
  gen_set mine = {out->items + first, out->n - first, out->n - first};
  long nc = gen_measure(&mine, play, ctx, stats->covered, &stats->violations, stats->violation,
                        sizeof(stats->violation));
  if (nc < 0)
    goto out;
  stats->plays += mine.n;
  stats->n_covered = (size_t)nc;
  rc = 0;
out:
  if (s) {
    for (size_t i = 0; i < s->n_cands; i++)
      transcript_cleanup(&s->cands[i].script);
    free(s->cands);
    free(s->nodes);
    free(s->known);
    free(s);
  }
  return rc;
}
