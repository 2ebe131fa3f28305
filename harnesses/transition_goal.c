/* transition_goal.c - see transition_goal.h. */
#include "transition_goal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"

static struct {
  bool ready, active, progress;
  bool goal[MODEL_ROW_COUNT];
  bool taken[MODEL_ROW_COUNT];
  size_t n_goal, n_taken;
  unsigned long long inputs;
  double start;
} g;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int row_by_name(const char *name) {
  for (int r = 0; r < MODEL_ROW_COUNT; r++)
    if (!strcmp(model_rows[r].name, name))
      return r;
  return -1;
}

static void __attribute__((noreturn)) usage_error(const char *path, const char *why) {
  fprintf(stderr, "FTPSFUZZ_TRANSITIONS_GOAL=%s: %s\n", path, why);
  _exit(2);
}

void transition_goal_init(void) {
  if (g.ready)
    return;
  g.ready = true;
  const char *path = getenv("FTPSFUZZ_TRANSITIONS_GOAL");
  if (path == NULL || path[0] == '\0')
    return;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    usage_error(path, "cannot open the file");
  char line[256];
  while (fgets(line, sizeof(line), f) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#')
      continue;
    int r = row_by_name(line);
    if (r < 0) {
      fclose(f);
      fprintf(stderr, "FTPSFUZZ_TRANSITIONS_GOAL=%s: no model transition named '%s'\n", path,
              line);
      _exit(2);
    }
    if (!g.goal[r]) {
      g.goal[r] = true;
      g.n_goal++;
    }
  }
  bool bad = ferror(f) != 0;
  fclose(f);
  if (bad)
    usage_error(path, "read error");
  if (g.n_goal == 0)
    usage_error(path, "names no transition");
  const char *p = getenv("FTPSFUZZ_TRANSITIONS_GOAL_PROGRESS");
  g.progress = p != NULL && p[0] == '1';
  g.active = true;
  g.start = now_s();
}

void transition_goal_row(int row) {
  if (!g.active || row < 0 || row >= MODEL_ROW_COUNT || !g.goal[row] || g.taken[row])
    return;
  g.taken[row] = true;
  g.n_taken++;
  if (g.progress)
    fprintf(stderr, "ftpsfuzz: transition %zu/%zu: %s after %llu inputs, %.3f s\n", g.n_taken,
            g.n_goal, model_rows[row].name, g.inputs + 1, now_s() - g.start);
}

void transition_goal_input_done(void) {
  if (!g.active)
    return;
  g.inputs++;
  if (g.n_taken < g.n_goal)
    return;
  fprintf(stderr, "ftpsfuzz: transition goal reached: %zu/%zu transitions after %llu inputs, %.3f s\n",
          g.n_taken, g.n_goal, g.inputs, now_s() - g.start);
  fflush(stderr);
  _exit(0);
}
