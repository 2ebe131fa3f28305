/* export_dot.c - `ftpsfuzz model --dot`: the model as a Graphviz picture,
 * optionally coloured by the transitions a corpus took.
 *
 * Projection. The model has ten state variables; the full product is
 * unreadable, so the picture shows the REACHABLE concrete states (breadth-first
 * over every event and every reply code the table allows, from the state after
 * the greeting) projected onto
 *     sec x login x PBSZ x PROT          while the connection is open,
 *     CLOSING (server must close) and CLOSED.
 * The other variables (data connection offered, pending REST/RNFR, anonymous
 * user, CCC/close_notify done) are folded into the node and listed in its
 * label as the values reachable there. Every update of the projected variables
 * is a constant, so a transition (model row) taken from one node always leads
 * to the same node: the edges are exact. Rows that stay in the same node are
 * drawn as one self-loop per node that counts them (`--table` lists them).
 * Edges to CLOSING (QUIT 221, and 421 which any command may get) are drawn
 * dashed to keep them out of the way.
 *
 * Coverage. A transition counts as taken from a node when the oracle, judging
 * a transcript, took that row from a concrete state projecting to that node;
 * the graph label counts distinct rows ("x/y transitions covered", y = rows
 * reachable under this configuration), the same measure `gen --cover` uses. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_export.h"
#include "oracle.h"

/* CLOSED, CLOSING, then sec(3) x login(3) x pbsz(2) x prot(2). */
#define NODE_CLOSED 0
#define NODE_CLOSING 1
#define NODE_MAX (2 + 3 * 3 * 2 * 2)
#define NO_NODE 0xff

/* Every variable holds 1..3, so 2 bits each index the state space. */
#define STATE_BITS 20
#define STATE_SPACE (1u << STATE_BITS)
/* The reachable space is below 3*3*2*2*2*3*2*2*2*3 = 5184 states. */
#define QUEUE_MAX 8192

struct model_cover {
  uint32_t rows[MODEL_ROW_COUNT];
  uint32_t cell[NODE_MAX][MODEL_ROW_COUNT];
  size_t transcripts;
};

typedef struct cell {
  bool used;
  uint8_t dst;
  model_codes codes; /* codes by which the row was taken from this node */
} cell;

typedef struct graph {
  cell cells[NODE_MAX][MODEL_ROW_COUNT];
  bool node_used[NODE_MAX];
  uint8_t data_mask[NODE_MAX], anon_mask[NODE_MAX], ccc_mask[NODE_MAX], pend_mask[NODE_MAX];
  size_t node_states[NODE_MAX];
  bool row_reachable[MODEL_ROW_COUNT];
  size_t states;
  uint8_t start; /* node after the greeting */
  model_codes greeting;
} graph;

static uint8_t node_of(const model_state *s) {
  if (s->close == MODEL_CLOSED)
    return NODE_CLOSED;
  if (s->close == MODEL_CLOSING)
    return NODE_CLOSING;
  if (s->sec < 1 || s->sec > 3 || s->login < 1 || s->login > 3 || s->pbsz < 1 || s->pbsz > 2 ||
      s->prot < 1 || s->prot > 2)
    return NO_NODE;
  return (uint8_t)(2 + (((s->sec - 1) * 3 + (s->login - 1)) * 2 + (s->pbsz - 1)) * 2 +
                   (s->prot - 1));
}

static uint32_t state_key(const model_state *s) {
  const uint8_t v[10] = {s->sec,  s->login, s->anon, s->pbsz, s->prot,
                         s->data, s->rnfr,  s->rest, s->ccc,  s->close};
  uint32_t k = 0;
  for (size_t i = 0; i < 10; i++)
    k = (k << 2) | (v[i] & 3u);
  return k;
}

static model_state state_of_key(uint32_t k) {
  uint8_t v[10];
  for (size_t i = 10; i-- > 0;) {
    v[i] = (uint8_t)(k & 3u);
    k >>= 2;
  }
  model_state s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
  return s;
}

/* --- coverage --- */

model_cover *model_cover_new(void) { return calloc(1, sizeof(model_cover)); }

void model_cover_free(model_cover *c) { free(c); }

size_t model_cover_transcripts(const model_cover *c) { return c ? c->transcripts : 0; }

/* Called by the oracle after it applied |row|. */
static void on_cover(void *ctx, const oracle *o, int row) {
  model_cover *c = ctx;
  uint8_t n = node_of(oracle_state_before(o));
  if (row >= 0 && row < MODEL_ROW_COUNT) {
    if (c->rows[row] < UINT32_MAX)
      c->rows[row]++;
    if (n != NO_NODE && c->cell[n][row] < UINT32_MAX)
      c->cell[n][row]++;
  }
}

void model_cover_fn(model_cover *c, oracle_cover_fn *out_fn, void **out_ctx) {
  *out_fn = on_cover;
  *out_ctx = c;
}

void model_cover_count(model_cover *c) { c->transcripts++; }

/* --- the reachable graph --- */

static void record(graph *g, const model_state *from, const model_state *to, int row,
                   unsigned code, bool has_code) {
  uint8_t a = node_of(from), b = node_of(to);
  if (row < 0 || a == NO_NODE || b == NO_NODE)
    return;
  cell *c = &g->cells[a][row];
  c->used = true;
  c->dst = b; /* constant per (node, row): see the comment at the top */
  if (has_code)
    c->codes.bits[code / 64] |= 1ull << (code % 64);
  g->row_reachable[row] = true;
}

static void note_state(graph *g, const model_state *s) {
  uint8_t n = node_of(s);
  if (n == NO_NODE)
    return;
  g->node_used[n] = true;
  g->node_states[n]++;
  g->data_mask[n] |= (uint8_t)(1u << s->data);
  g->anon_mask[n] |= (uint8_t)(1u << s->anon);
  g->ccc_mask[n] |= (uint8_t)(1u << s->ccc);
  g->pend_mask[n] |= (uint8_t)((s->rnfr == MODEL_YES ? 1u : 0u) | (s->rest == MODEL_YES ? 2u : 0u));
}

/* build explores every event and every allowed code from the state after the
 * greeting. Returns 0 or -1 (out of memory, or a state outside the ranges). */
static int build(graph *g, const model_config *cfg) {
  int rc = -1;
  uint8_t *seen = calloc(STATE_SPACE / 8, 1);
  uint32_t *queue = malloc(QUEUE_MAX * sizeof(*queue));
  size_t head = 0, tail = 0;
  if (!seen || !queue)
    goto out;

  /* The greeting: the oracle expects it first, and only first. */
  model_state s0 = model_initial();
  model_codes pre, fin, after;
  model_allowed(cfg, &s0, MODEL_EV_GREETING, &pre, &fin, &after);
  for (unsigned code = 100; code < 600; code++) {
    for (int ap = 0; ap < 2; ap++) {
      if (!model_codes_has(ap ? &after : &fin, code))
        continue;
      model_state s = s0;
      int row = model_take(cfg, &s, MODEL_EV_GREETING, code, ap);
      if (row < 0)
        continue;
      g->row_reachable[row] = true;
      if (row == MODEL_ROW_GREETING) {
        g->greeting.bits[code / 64] |= 1ull << (code % 64);
        if (ap)
          for (unsigned p = 100; p < 200; p++)
            if (model_codes_has(&pre, p))
              g->greeting.bits[p / 64] |= 1ull << (p % 64);
      }
      uint32_t k = state_key(&s);
      if (!(seen[k / 8] & (1u << (k % 8)))) {
        seen[k / 8] |= (uint8_t)(1u << (k % 8));
        queue[tail++] = k;
      }
    }
  }
  g->start = node_of(&s0);

  while (head < tail) {
    model_state s = state_of_key(queue[head++]);
    note_state(g, &s);
    g->states++;
    if (s.close == MODEL_CLOSED)
      continue; /* the session is over: nothing follows (as in the Promela client) */
    for (unsigned e = 0; e < MODEL_EV_COUNT; e++) {
      model_event ev = (model_event)e;
      if (ev == MODEL_EV_GREETING)
        continue;
      bool conn = (model_event_flags(ev) & MODEL_F_CONN) != 0;
      unsigned lo = conn ? 0 : 100, hi = conn ? 1 : 600;
      if (!conn && !model_allowed(cfg, &s, ev, NULL, &fin, &after))
        continue;
      for (unsigned code = lo; code < hi; code++) {
        for (int ap = 0; ap < (conn ? 1 : 2); ap++) {
          if (!conn && !model_codes_has(ap ? &after : &fin, code))
            continue;
          model_state t = s;
          int row = model_take(cfg, &t, ev, code, ap);
          if (row < 0)
            continue;
          record(g, &s, &t, row, code, !conn);
          uint32_t k = state_key(&t);
          if (node_of(&t) == NO_NODE)
            goto out;
          if (!(seen[k / 8] & (1u << (k % 8)))) {
            if (tail == QUEUE_MAX)
              goto out;
            seen[k / 8] |= (uint8_t)(1u << (k % 8));
            queue[tail++] = k;
          }
        }
      }
    }
  }
  rc = 0;
out:
  free(seen);
  free(queue);
  return rc;
}

/* --- drawing --- */

static const char *const sec_names[] = {"?", "PLAIN", "NEGOTIATING", "SECURE"};
static const char *const login_names[] = {"?", "NONE", "USER_OK", "LOGGED_IN"};
static const char *const data_names[] = {"?", "NONE", "PASSIVE", "ACTIVE"};

#define COLOR_TAKEN "#1a9850"
#define COLOR_PART "#f46d43"
#define COLOR_NOT "#b0b0b0"

/* node_parts decodes an open node's projected values. */
static void node_parts(uint8_t n, unsigned *sec, unsigned *login, unsigned *pbsz, unsigned *prot) {
  unsigned i = (unsigned)n - 2;
  *prot = i % 2 + 1;
  i /= 2;
  *pbsz = i % 2 + 1;
  i /= 2;
  *login = i % 3 + 1;
  *sec = i / 3 + 1;
}

static const char *taken_color(size_t taken, size_t n);

/* print_sink_line: "EVENT codes from n nodes" for a row |r| that leads to
 * |b| from (nearly) every node, drawn once here (coloured by coverage). */
static void print_sink_line(FILE *out, const graph *g, const model_cover *cov, int r, uint8_t b,
                            const char *what) {
  size_t from = 0, taken = 0;
  for (uint8_t a = 2; a < NODE_MAX; a++)
    if (g->node_used[a] && g->cells[a][r].used && g->cells[a][r].dst == b) {
      from++;
      taken += cov && cov->cell[a][r] ? 1 : 0;
    }
  if (!from)
    return;
  fprintf(out, "<br/><font point-size=\"8\"");
  if (cov)
    fprintf(out, " color=\"%s\"", taken_color(taken, from));
  fprintf(out, ">%s from %s%zu nodes", what, cov ? "" : "all ", from);
  if (cov)
    fprintf(out, ": %zu/%zu taken", taken, from);
  fprintf(out, "</font>");
}

static void print_node(FILE *out, const graph *g, const model_cover *cov, uint8_t n) {
  if (n == NODE_CLOSED) {
    fprintf(out, "  n%u [label=<<b>CLOSED</b>", n);
    print_sink_line(out, g, cov, MODEL_ROW_CLOSED, NODE_CLOSED, "E: closed");
    fprintf(out, ">, shape=doubleoctagon, fillcolor=\"#d9d9d9\"];\n");
    return;
  }
  if (n == NODE_CLOSING) {
    fprintf(out, "  n%u [label=<<b>CLOSING</b><br/><font point-size=\"8\">the server must close"
                 "</font>", n);
    print_sink_line(out, g, cov, MODEL_ROW_QUIT_OK, NODE_CLOSING, "QUIT 221");
    print_sink_line(out, g, cov, MODEL_ROW_GEN_421, NODE_CLOSING, "any command 421");
    fprintf(out, ">, shape=octagon, fillcolor=\"#f0f0f0\"];\n");
    return;
  }
  unsigned sec, login, pbsz, prot;
  node_parts(n, &sec, &login, &pbsz, &prot);
  static const char *const fill[] = {"white", "#fde0dd", "#fff7bc", "#e5f5e0"};
  fprintf(out, "  n%u [label=<<b>%s / %s</b><br/>%s, PROT %s<br/><font point-size=\"8\">data",
          n, sec_names[sec], login_names[login], pbsz == MODEL_YES ? "PBSZ set" : "no PBSZ",
          prot == MODEL_PROT_P ? "P" : "C");
  for (unsigned d = 1; d <= 3; d++)
    if (g->data_mask[n] & (1u << d))
      fprintf(out, " %s", data_names[d]);
  if (g->pend_mask[n])
    fprintf(out, "; pending%s%s", (g->pend_mask[n] & 1u) ? " RNFR" : "",
            (g->pend_mask[n] & 2u) ? " REST" : "");
  if (g->anon_mask[n] & (1u << MODEL_YES))
    fprintf(out, "; anonymous");
  if (g->ccc_mask[n] & (1u << MODEL_YES))
    fprintf(out, "; after CCC%s", (g->ccc_mask[n] & (1u << MODEL_NO)) ? " or not" : "");
  fprintf(out, "<br/>%zu states</font>>, fillcolor=\"%s\"];\n", g->node_states[n], fill[sec]);
}

/* taken_color: all / some / none of |n| rows taken. */
static const char *taken_color(size_t taken, size_t n) {
  return taken == n ? COLOR_TAKEN : taken ? COLOR_PART : COLOR_NOT;
}

/* everywhere: rows every open node has towards CLOSING/CLOSED (QUIT 221,
 * 421 to any command, the connection closing). Drawing them from every node
 * buries the picture; the CLOSING and CLOSED nodes count them instead. */
static bool everywhere(int r, uint8_t b) {
  return (b == NODE_CLOSING && (r == MODEL_ROW_QUIT_OK || r == MODEL_ROW_GEN_421)) ||
         (b == NODE_CLOSED && r == MODEL_ROW_CLOSED);
}

static bool edge_row(const graph *g, uint8_t a, uint8_t b, int r) {
  const cell *c = &g->cells[a][r];
  return c->used && c->dst == b && !(a != b && a >= 2 && everywhere(r, b));
}

/* print_edge draws the rows from |a| to |b| (a != b), one label line per
 * event. Returns 1 if it drew an edge. */
static int print_edge(FILE *out, const graph *g, const model_cover *cov, uint8_t a, uint8_t b) {
  size_t rows = 0, taken = 0;
  for (int r = 0; r < MODEL_ROW_COUNT; r++)
    if (edge_row(g, a, b, r)) {
      rows++;
      taken += cov && cov->cell[a][r] ? 1 : 0;
    }
  if (!rows)
    return 0;
  fprintf(out, "  n%u -> n%u [label=<", a, b);
  bool done[MODEL_ROW_COUNT] = {false};
  int lines = 0;
  for (int r = 0; r < MODEL_ROW_COUNT; r++) {
    if (done[r] || !edge_row(g, a, b, r))
      continue;
    /* merge the rows of the same event into one line */
    model_event ev = model_rows[r].event;
    model_codes codes;
    memset(&codes, 0, sizeof(codes));
    size_t lrows = 0, ltaken = 0;
    for (int q = r; q < MODEL_ROW_COUNT; q++) {
      const cell *c = &g->cells[a][q];
      if (done[q] || !edge_row(g, a, b, q) || model_rows[q].event != ev)
        continue;
      done[q] = true;
      lrows++;
      ltaken += cov && cov->cell[a][q] ? 1 : 0;
      for (size_t i = 0; i < 16; i++)
        codes.bits[i] |= c->codes.bits[i];
    }
    char buf[400];
    model_codes_format(&codes, buf, sizeof(buf));
    const char *name = ev == MODEL_EV_ANY ? "any command" : model_event_name(ev);
    fprintf(out, "%s", lines++ ? "<br/>" : "");
    if (cov)
      fprintf(out, "<font color=\"%s\">", taken_color(ltaken, lrows));
    fprintf(out, "%s%s%s", name, buf[0] ? " " : "", buf);
    if (cov)
      fprintf(out, "</font>");
  }
  fprintf(out, ">");
  if (b == NODE_CLOSING || b == NODE_CLOSED)
    fprintf(out, ", style=dashed");
  if (cov)
    fprintf(out, ", color=\"%s\", penwidth=%s", taken_color(taken, rows), taken ? "2" : "1");
  fprintf(out, "];\n");
  return 1;
}

static int print_loop(FILE *out, const graph *g, const model_cover *cov, uint8_t a) {
  size_t rows = 0, taken = 0;
  for (int r = 0; r < MODEL_ROW_COUNT; r++)
    if (g->cells[a][r].used && g->cells[a][r].dst == a) {
      rows++;
      taken += cov && cov->cell[a][r] ? 1 : 0;
    }
  if (!rows)
    return 0;
  fprintf(out, "  n%u -> n%u [label=<<font point-size=\"7\">%zu transitions stay", a, a, rows);
  if (cov) {
    fprintf(out, "<br/>%zu/%zu taken", taken, rows);
    size_t shown = 0;
    for (int r = 0; r < MODEL_ROW_COUNT && taken < rows; r++) {
      if (!g->cells[a][r].used || g->cells[a][r].dst != a || cov->cell[a][r])
        continue;
      if (shown == 6) {
        fprintf(out, " ...");
        break;
      }
      fprintf(out, "%s%s", shown % 3 ? " " : (shown ? "<br/>" : "<br/>missed: "), model_rows[r].name);
      shown++;
    }
  }
  fprintf(out, "</font>>, style=dotted");
  if (cov)
    fprintf(out, ", color=\"%s\"", taken_color(taken, rows));
  fprintf(out, "];\n");
  return 1;
}

static size_t covered_rows(const graph *g, const model_cover *cov, size_t *out_rows) {
  size_t rows = 0, covered = 0;
  for (int r = 0; r < MODEL_ROW_COUNT; r++) {
    if (!g->row_reachable[r])
      continue;
    rows++;
    covered += cov && cov->rows[r] ? 1 : 0;
  }
  *out_rows = rows;
  return covered;
}

static size_t used_nodes(const graph *g) {
  size_t n = 0;
  for (uint8_t i = 0; i < NODE_MAX; i++)
    n += g->node_used[i] ? 1 : 0;
  return n;
}

static int draw(FILE *out, const graph *g, const model_config *cfg, const model_cover *cov) {
  size_t rows, covered = covered_rows(g, cov, &rows);
  const model_policy *p = &cfg->policy;
  fprintf(out, "// ftpsfuzz model --dot: generated from model/model.def; do not edit.\n");
  fprintf(out, "digraph ftps_model {\n");
  fprintf(out, "  graph [fontname=\"Helvetica\", rankdir=TB, nodesep=0.5, ranksep=0.7, "
               "labelloc=t, fontsize=12, label=<");
  fprintf(out, "<b>ftpsfuzz FTPS model</b> (profile %s; tls-login=%s tls-data=%s anon=%s "
               "ccc=%s)<br/>",
          cfg->profile == MODEL_PROFILE_RFC ? "rfc" : "default", p->tls_login ? "on" : "off",
          p->tls_data ? "on" : "off", p->anon ? "on" : "off", p->ccc ? "on" : "off");
  fprintf(out, "%zu reachable states shown as %zu nodes (sec / login, PBSZ, PROT); %zu "
               "reachable transitions",
          g->states, used_nodes(g), rows);
  if (cov)
    fprintf(out, "<br/><b>%zu/%zu transitions covered</b> by %zu transcript(s)", covered, rows,
            model_cover_transcripts(cov));
  fprintf(out, ">];\n");
  fprintf(out, "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\"];\n"
               "  edge [fontname=\"Helvetica\", fontsize=8, arrowsize=0.7];\n");

  /* one cluster per security state keeps the layout readable */
  for (unsigned sec = 1; sec <= 3; sec++) {
    fprintf(out, "  subgraph cluster_%s {\n  label=\"%s\"; style=dashed; color=\"#999999\";\n",
            sec_names[sec], sec_names[sec]);
    for (uint8_t n = 2; n < NODE_MAX; n++) {
      unsigned s, l, pb, pr;
      node_parts(n, &s, &l, &pb, &pr);
      if (g->node_used[n] && s == sec) {
        fprintf(out, "  ");
        print_node(out, g, cov, n);
      }
    }
    fprintf(out, "  }\n");
  }
  for (uint8_t n = 0; n < 2; n++)
    if (g->node_used[n])
      print_node(out, g, cov, n);

  char buf[64];
  model_codes_format(&g->greeting, buf, sizeof(buf));
  fprintf(out, "  start [shape=point, width=0.15];\n  start -> n%u [label=\"GREETING %s\"%s];\n",
          g->start, buf,
          cov ? (cov->rows[MODEL_ROW_GREETING] ? ", color=\"" COLOR_TAKEN "\", penwidth=2"
                                               : ", color=\"" COLOR_NOT "\"")
              : "");
  for (uint8_t a = 0; a < NODE_MAX; a++) {
    if (!g->node_used[a])
      continue;
    for (uint8_t b = 0; b < NODE_MAX; b++)
      if (b != a)
        print_edge(out, g, cov, a, b);
    print_loop(out, g, cov, a);
  }

  /* legend */
  fprintf(out, "  legend [shape=plaintext, style=\"\", fontsize=9, label=<<table border=\"0\" "
               "cellborder=\"1\" cellspacing=\"0\" cellpadding=\"3\">"
               "<tr><td colspan=\"2\"><b>legend</b></td></tr>"
               "<tr><td bgcolor=\"#fde0dd\">PLAIN</td><td bgcolor=\"#e5f5e0\">SECURE</td></tr>"
               "<tr><td colspan=\"2\">edge: EVENT and the reply codes that take it</td></tr>"
               "<tr><td colspan=\"2\">dotted loop: transitions that stay in the node</td></tr>"
               "<tr><td colspan=\"2\">dashed: to CLOSING / CLOSED</td></tr>");
  if (cov)
    fprintf(out, "<tr><td colspan=\"2\"><font color=\"" COLOR_TAKEN "\">taken by the corpus"
                 "</font></td></tr><tr><td colspan=\"2\"><font color=\"" COLOR_PART
                 "\">partly taken</font></td></tr><tr><td colspan=\"2\"><font color=\"" COLOR_NOT
                 "\">not taken</font></td></tr>");
  fprintf(out, "</table>>];\n}\n");
  return ferror(out) ? -1 : 0;
}

static size_t count_edges(const graph *g) {
  size_t n = 1; /* start -> initial */
  for (uint8_t a = 0; a < NODE_MAX; a++) {
    bool to[NODE_MAX] = {false};
    for (int r = 0; r < MODEL_ROW_COUNT; r++)
      if (g->cells[a][r].used && edge_row(g, a, g->cells[a][r].dst, r))
        to[g->cells[a][r].dst] = true;
    for (uint8_t b = 0; b < NODE_MAX; b++)
      n += to[b] ? 1 : 0;
  }
  return n;
}

int model_export_dot_counts(const model_config *cfg, const model_cover *cov, size_t *out_nodes,
                            size_t *out_edges, size_t *out_rows, size_t *out_covered) {
  graph *g = calloc(1, sizeof(*g));
  if (!g || build(g, cfg) != 0) {
    free(g);
    return -1;
  }
  size_t rows, covered = covered_rows(g, cov, &rows);
  if (out_nodes)
    *out_nodes = used_nodes(g);
  if (out_edges)
    *out_edges = count_edges(g);
  if (out_rows)
    *out_rows = rows;
  if (out_covered)
    *out_covered = covered;
  free(g);
  return 0;
}

int model_export_dot(FILE *out, const model_config *cfg, const model_cover *cov) {
  graph *g = calloc(1, sizeof(*g));
  int rc = -1;
  if (!g || build(g, cfg) != 0)
    goto out;
  rc = draw(out, g, cfg, cov);
out:
  free(g);
  return rc;
}
