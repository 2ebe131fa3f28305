/* learn_report.c - see learn_report.h. */
#include "learn_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_dir(const char *path, char *err, size_t err_len) {
  if (mkdir(path, 0777) != 0 && errno != EEXIST) {
    snprintf(err, err_len, "%s: cannot create directory: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* open_out opens DIR/NAME for writing, its path in |path|. */
static FILE *open_out(const char *dir, char *err, size_t err_len, const char *name, char *path,
                      size_t path_len) {
  snprintf(path, path_len, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    snprintf(err, err_len, "%s: cannot write: %s", path, strerror(errno));
  return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t err_len) {
  if (ferror(f) | (fclose(f) != 0)) {
    snprintf(err, err_len, "%s: write error", path);
    return -1;
  }
  return 0;
}

/* write_export writes DIR/NAME with |fn|; the file is closed either way. */
static int write_export(const char *dir, const char *name, int (*fn)(FILE *, const learn_view *),
                        const learn_view *v, char *err, size_t err_len) {
  char path[4200];
  FILE *f = open_out(dir, err, err_len, name, path, sizeof(path));
  if (!f)
    return -1;
  int rc = fn(f, v);
  if (close_out(f, path, err, err_len) != 0)
    return -1;
  if (rc != 0)
    snprintf(err, err_len, "%s: write error", path);
  return rc != 0 ? -1 : 0;
}

int learn_report_write(const char *dir, learn_ftps *map, const learn_mealy *m, const learn_diff *d,
                       const learn_view *v, const model_policy *policy, const char *target,
                       char *err, size_t err_len) {
  char path[4200], sub[2048], header[1024];
  if (make_dir(dir, err, err_len) != 0)
    return -1;
  if (write_export(dir, "learned.dot", learn_export_dot, v, err, err_len) != 0 ||
      write_export(dir, "learned.pml", learn_export_promela, v, err, err_len) != 0)
    return -1;
  FILE *f = open_out(dir, err, err_len, "diff.md", path, sizeof(path));
  if (!f)
    return -1;
  fprintf(f, "# ftpsfuzz learn: %s against the model\n\n", target);
  if (d->n_rows == 0)
    fprintf(f, "No learned transition breaks the model (%zu transitions replayed).\n",
            d->replays);
  else {
    fprintf(f, "%zu of %zu learned transitions are not allowed by the model.\n\n", d->n_rows,
            d->replays);
    learn_diff_print_table(d, map, f);
  }
  if (d->unexercised)
    fprintf(f, "\n%zu of those transitions were not exercised: their input came after the "
               "connection closed or the client gave up, so nothing was judged.\n",
            d->unexercised);
  if (d->mismatches)
    fprintf(f, "\nNote: %zu replays answered otherwise than learned (a non-deterministic "
               "server).\n", d->mismatches);
  if (close_out(f, path, err, err_len) != 0)
    return -1;
  snprintf(sub, sizeof(sub), "%s/witnesses", dir);
  if (make_dir(sub, err, err_len) != 0)
    return -1;
  size_t maxlen = 0;
  for (size_t s = 0; s < m->n_states; s++)
    maxlen = m->access_len[s] > maxlen ? m->access_len[s] : maxlen;
  learn_sym *word = malloc((maxlen + 1) * sizeof(*word));
  if (!word) {
    snprintf(err, err_len, "out of memory (witnesses)");
    return -1;
  }
  int rc = -1;
  for (size_t k = 0; k < d->n_rows; k++) {
    const learn_diff_row *r = &d->rows[k];
    size_t L = m->access_len[r->state];
    if (L)
      memcpy(word, m->access[r->state], L * sizeof(*word));
    word[L] = r->input;
    snprintf(header, sizeof(header),
             "ftpsfuzz learn witness (%s): state q%u, input %s: learned '%s', the model "
             "allows %s\n%s\nreplay: ftpsfuzz run [--connect HOST:PORT] --oracle THIS.fts",
             target, r->state, learn_ftps_input_name(map, r->input),
             learn_ftps_output_name(map, r->out), r->allowed[0] ? r->allowed : "otherwise",
             r->why);
    snprintf(path, sizeof(path), "%s/%s", sub, r->witness);
    if (learn_diff_write_script(map, word, L + 1, policy, header, path, err, err_len) != 0)
      goto out;
  }
  snprintf(sub, sizeof(sub), "%s/access", dir);
  if (make_dir(sub, err, err_len) != 0)
    goto out;
  for (size_t s = 0; s < m->n_states; s++) {
    snprintf(header, sizeof(header), "ftpsfuzz learn (%s): the access sequence of state q%zu",
             target, s);
    snprintf(path, sizeof(path), "%s/q%zu.fts", sub, s);
    if (learn_diff_write_script(map, m->access[s], m->access_len[s], policy, header, path, err,
                                err_len) != 0)
      goto out;
  }
  rc = 0;
out:
  free(word);
  return rc;
}
