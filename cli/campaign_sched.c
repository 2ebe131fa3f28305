/* campaign_sched.c - see campaign_sched.h. */
#include "campaign_sched.h"

#include <string.h>

#define EXPLOIT_SLICE_UNITS 2.0 /* exploit slices: twice the explore slice */

static bool is_model_harness(const char *name) { return !strcmp(name, "fuzz_sequence"); }

void campaign_sched_init(campaign_sched *s, campaign_run_h *runs, size_t n, unsigned time_s) {
  unsigned wsum = 0;
  memset(s, 0, sizeof(*s));
  s->time_s = time_s;
  for (size_t i = 0; i < n; i++) {
    runs[i].weight = is_model_harness(runs[i].name) ? CAMPAIGN_MODEL_WEIGHT : 1;
    runs[i].pass = 0;
    wsum += runs[i].weight;
  }
  s->unit_s = wsum > 0 ? (double)time_s / 2.0 / (double)wsum : time_s;
  /* heaviest first, list order among equals */
  for (unsigned w = CAMPAIGN_MODEL_WEIGHT; w >= 1; w--)
    for (size_t i = 0; i < n && s->norder < sizeof(s->order) / sizeof(s->order[0]); i++)
      if (runs[i].weight == w)
        s->order[s->norder++] = i;
}

/* gain_rate: new features (else new inputs) per second of the last slice */
static double gain_rate(const campaign_run_h *r) {
  if (r->nslices == 0)
    return 0;
  const campaign_slice *sl = &r->slices[r->nslices - 1];
  long long g = sl->new_features >= 0 ? sl->new_features : sl->new_inputs;
  if (g <= 0 || sl->seconds <= 0)
    return 0;
  return (double)g / sl->seconds;
}

static double score(const campaign_run_h *r) { return (double)r->weight * (1.0 + gain_rate(r)); }

static unsigned fit(double want, unsigned weight, double left) {
  double min = CAMPAIGN_SLICE_MIN_S;
  if (want > (double)CAMPAIGN_SLICE_MAX_S * weight)
    want = (double)CAMPAIGN_SLICE_MAX_S * weight;
  if (want < min)
    want = min;
  /* do not leave a remainder too short to be a slice */
  if (left - want < min)
    want = left;
  if (want < 1)
    want = 1;
  return (unsigned)(want + 0.5);
}

int campaign_sched_next(campaign_sched *s, campaign_run_h *runs, size_t n, double used_s,
                        unsigned *out_seconds) {
  double left = (double)s->time_s - used_s;
  if (left < 1 || n == 0)
    return -1;
  if (n == 1) {
    /* one harness: the whole budget; again only if the engine ended early */
    if (runs[0].nslices > 0 &&
        (!runs[0].ran || runs[0].start_failed || left < CAMPAIGN_SLICE_MIN_S))
      return -1;
    *out_seconds = (unsigned)(left + 0.5);
    return 0;
  }
  while (s->next_explore < s->norder) {
    size_t i = s->order[s->next_explore++];
    *out_seconds = fit(s->unit_s * runs[i].weight, runs[i].weight, left);
    return (int)i;
  }
  /* exploit: the lowest pass; a harness that could not start is out; a
   * remainder too short for a slice is left (the last slices overran) */
  if (left < CAMPAIGN_SLICE_MIN_S)
    return -1;
  int best = -1;
  for (size_t i = 0; i < n; i++) {
    if (!runs[i].ran || runs[i].start_failed)
      continue;
    if (best < 0 || runs[i].pass < runs[best].pass ||
        (runs[i].pass == runs[best].pass && score(&runs[i]) > score(&runs[best])))
      best = (int)i;
  }
  if (best < 0)
    return -1;
  *out_seconds =
      fit(s->unit_s * EXPLOIT_SLICE_UNITS * runs[best].weight, runs[best].weight, left);
  return best;
}

void campaign_sched_done(campaign_run_h *r, double start_s, double seconds, long long new_edges,
                         long long new_features, long long new_inputs) {
  if (r->nslices < CAMPAIGN_SLICES_MAX) {
    campaign_slice *sl = &r->slices[r->nslices++];
    sl->start_s = start_s;
    sl->seconds = seconds;
    sl->new_edges = new_edges;
    sl->new_features = new_features;
    sl->new_inputs = new_inputs;
  }
  /* the explore slice counts too: after it every harness stands at
   * explore seconds / score, so the exploit round opens with the harness
   * that found the most per second for its weight */
  r->pass += seconds / score(r);
}
