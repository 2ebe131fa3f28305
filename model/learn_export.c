/* learn_export.c - see learn_export.h. */
#include "learn_export.h"

#include <stdlib.h>
#include <string.h>

#include "model_export.h"

static const char *const sec_names[] = {"?", "PLAIN", "NEGOTIATING", "SECURE"};
static const char *const login_names[] = {"?", "NONE", "USER_OK", "LOGGED_IN"};
static const char *const fill[] = {"white", "#fde0dd", "#fff7bc", "#e5f5e0"};

unsigned learn_output_final_code(const char *name) {
  unsigned last = 0;
  for (const char *p = name; *p; p++) {
    bool start = p == name || p[-1] == '.' || p[-1] == '+';
    if (start && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
        p[2] <= '9' && (p[3] == 0 || p[3] == '.' || p[3] == '+'))
      last = (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
  }
  return last;
}

static size_t cell(const learn_view *v, size_t s, size_t i) { return s * v->m->n_inputs + i; }

/* is_sink_state: every input answers the closed/gave_up sink and stays. */
static bool is_sink_state(const learn_view *v, size_t s) {
  for (size_t i = 0; i < v->m->n_inputs; i++) {
    const char *o = v->output_name(v->ctx, v->m->out[cell(v, s, i)]);
    if (v->m->next[cell(v, s, i)] != s || (strcmp(o, "closed") && strcmp(o, "gave_up")))
      return false;
  }
  return true;
}

static void print_escaped(FILE *out, const char *s) {
  for (; *s; s++) {
    if (*s == '<')
      fputs("&lt;", out);
    else if (*s == '>')
      fputs("&gt;", out);
    else if (*s == '&')
      fputs("&amp;", out);
    else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
      fputc(*s, out);
  }
}

int learn_export_dot(FILE *out, const learn_view *v) {
  const learn_mealy *m = v->m;
  const model_policy *p = &v->policy;
  size_t bad = 0;
  for (size_t c = 0; v->violates && c < m->n_states * m->n_inputs; c++)
    bad += v->violates[c] ? 1 : 0;
  fprintf(out, "// ftpsfuzz learn: the learned machine; generated, do not edit.\n");
  fprintf(out, "digraph ftps_learned {\n");
  fprintf(out, "  graph [fontname=\"Helvetica\", rankdir=TB, nodesep=0.5, ranksep=0.7, "
               "labelloc=t, fontsize=12, label=<<b>learned FTPS machine</b> (");
  print_escaped(out, v->title ? v->title : "");
  fprintf(out, "; declared tls-login=%s tls-data=%s anon=%s ccc=%s)<br/>%zu states, %zu inputs",
          p->tls_login ? "on" : "off", p->tls_data ? "on" : "off", p->anon ? "on" : "off",
          p->ccc ? "on" : "off", m->n_states, m->n_inputs);
  if (v->violates)
    fprintf(out, "; <b>%zu transition(s) the model does not allow</b> (red)", bad);
  fprintf(out, ">];\n");
  fprintf(out, "  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=\"rounded,filled\"];\n"
               "  edge [fontname=\"Helvetica\", fontsize=8, arrowsize=0.7];\n");
  for (size_t s = 0; s < m->n_states; s++) {
    if (is_sink_state(v, s)) {
      fprintf(out, "  q%zu [label=<<b>CLOSED</b><br/><font point-size=\"8\">q%zu: every input "
                   "answers %s</font>>, shape=doubleoctagon, fillcolor=\"#d9d9d9\"];\n",
              s, s, v->output_name(v->ctx, m->out[cell(v, s, 0)]));
      continue;
    }
    const model_state *st = &v->state_label[s];
    unsigned sec = st->sec <= 3 ? st->sec : 0, login = st->login <= 3 ? st->login : 0;
    fprintf(out, "  q%zu [label=<<b>q%zu</b>%s<br/>%s / %s<br/><font point-size=\"8\">%s, PROT %s"
                 "%s</font>>, fillcolor=\"%s\"%s];\n",
            s, s, s == 0 ? " (initial)" : "", sec_names[sec], login_names[login],
            st->pbsz == MODEL_YES ? "PBSZ set" : "no PBSZ", st->prot == MODEL_PROT_P ? "P" : "C",
            st->ccc == MODEL_YES ? "; after CCC" : "", fill[sec], s == 0 ? ", penwidth=2" : "");
  }
  for (size_t s = 0; s < m->n_states; s++) {
    if (is_sink_state(v, s))
      continue; /* its loops say nothing */
    for (size_t d = 0; d < m->n_states; d++) {
      size_t lines = 0;
      bool red = false;
      for (size_t i = 0; i < m->n_inputs; i++) {
        size_t c = cell(v, s, i);
        if (m->next[c] != d)
          continue;
        bool viol = v->violates && v->violates[c];
        if (lines++ == 0)
          fprintf(out, "  q%zu -> q%zu [label=<", s, d);
        else
          fprintf(out, "<br/>");
        if (viol)
          fprintf(out, "<font color=\"#d7301f\"><b>");
        fprintf(out, "%s / ", v->input_names[i]);
        print_escaped(out, v->output_name(v->ctx, m->out[c]));
        if (viol)
          fprintf(out, "</b></font>");
        red |= viol;
      }
      if (lines)
        fprintf(out, ">%s%s];\n", s == d ? ", style=dotted" : "",
                red ? ", color=\"#d7301f\", penwidth=2" : "");
    }
  }
  fprintf(out, "}\n");
  return ferror(out) ? -1 : 0;
}

/* promela_event: the event a transition is, for the checks. */
static const char *promela_event(const learn_view *v, size_t i, const char *out) {
  model_event ev = v->input_events[i];
  if (ev != MODEL_EV_COUNT)
    return model_event_name(ev);
  if (strstr(out, "hs_fail"))
    return model_event_name(MODEL_EV_TLS_FAIL);
  if (strstr(out, "hs_ok"))
    return model_event_name(MODEL_EV_TLS_OK);
  return model_event_name(MODEL_EV_CLOSED);
}

int learn_export_promela(FILE *out, const learn_view *v) {
  const learn_mealy *m = v->m;
  const model_policy *p = &v->policy;
  fprintf(out, "/* Generated by `ftpsfuzz learn`: the learned machine (");
  if (v->title)
    for (const char *c = v->title; *c; c++)
      if (*c != '*' && *c != '/')
        fputc(*c, out);
  fprintf(out, ") with the model's\n"
               " * state after each transition, checked with the model's security invariants.\n"
               " * Check: spin -a THIS.pml && cc -O2 -DSAFETY -o pan pan.c && ./pan\n */\n\n");
  model_promela_declare(out);
  fprintf(out, "byte q = 0; /* the learned state */\n\n");
  model_promela_checks(out);
  fprintf(out, "active proctype learned() {\n"
               "  /* the declared policy */\n"
               "  pol_tls_login = %d; pol_tls_data = %d; pol_anon = %d; pol_ccc = %d;\n"
               "end:\n  do\n",
          p->tls_login, p->tls_data, p->anon, p->ccc);
  size_t emitted = 0;
  for (size_t s = 0; s < m->n_states; s++) {
    if (is_sink_state(v, s))
      continue;
    for (size_t i = 0; i < m->n_inputs; i++) {
      size_t c = cell(v, s, i);
      const char *o = v->output_name(v->ctx, m->out[c]);
      const model_state *t = &v->post_label[c];
      /* into a sink the connection is over: closed by the server, or given up
       * by the client (a stalled handshake), where the oracle stops judging */
      bool sink = is_sink_state(v, m->next[c]);
      bool gave_up = sink && !strcmp(v->output_name(v->ctx, m->out[(size_t)m->next[c] * m->n_inputs]),
                                     "gave_up");
      bool cmd = v->input_events[i] != MODEL_EV_COUNT &&
                 !(model_event_flags(v->input_events[i]) & MODEL_F_CONN);
      fprintf(out, "  :: atomic { q == %zu -> /* %s / %s */\n"
                   "     p_sec = sec; p_login = login; p_pbsz = pbsz; p_prot = prot; "
                   "p_ccc = ccc;\n"
                   "     ev = e_%s; code = %u;%s\n"
                   "     q = %u; sec = %u; login = %u; anon = %u; pbsz = %u; prot = %u; "
                   "data = %u;\n"
                   "     rnfr = %u; rest = %u; ccc = %u; conn = %u;\n"
                   "     check() }\n",
              s, v->input_names[i], o, promela_event(v, i, o),
              cmd ? learn_output_final_code(o) : 0u,
              strstr(o, "hs_fail") && !gave_up ? " hs_failed = 1;" : "", m->next[c], t->sec,
              t->login, t->anon, t->pbsz, t->prot, t->data, t->rnfr, t->rest, t->ccc,
              sink ? (unsigned)MODEL_CLOSED : t->close);
      emitted++;
    }
  }
  if (emitted == 0)
    fprintf(out, "  :: break\n");
  fprintf(out, "  od\n}\n");
  return ferror(out) ? -1 : 0;
}
