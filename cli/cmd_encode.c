/* cmd_encode.c - `ftpsfuzz encode IN.fts -o OUT.bin`: a .fts transcript to the
 * binary corpus form (DESIGN section 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_atomic.h"
#include "transcript.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz encode IN.fts -o OUT.bin\n"
          "\n"
          "Convert a .fts transcript (text) to the binary corpus form: records of\n"
          "u16 tag, u24 length and payload. OUT.bin is written atomically.\n"
          "Exit status: 0 ok, 2 bad usage or input (FILE:LINE: what was expected).\n");
}

int cmd_encode(int argc, char **argv) {
  const char *in = NULL, *outp = NULL;
  char err[512];
  transcript t;
  uint8_t *bin = NULL;
  size_t bin_len = 0;
  cli_atomic a = {0};
  int rc = CLI_USAGE;

  transcript_init(&t);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "-o")) {
      if (i + 1 >= argc || outp != NULL) {
        fprintf(stderr, "ftpsfuzz encode: expected one -o OUT.bin\n");
        usage(stderr);
        return CLI_USAGE;
      }
      outp = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      fprintf(stderr, "ftpsfuzz encode: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return CLI_USAGE;
    } else if (in == NULL) {
      in = argv[i];
    } else {
      fprintf(stderr, "ftpsfuzz encode: expected one input file, got '%s' too\n", argv[i]);
      usage(stderr);
      return CLI_USAGE;
    }
  }
  if (in == NULL || outp == NULL) {
    fprintf(stderr, "ftpsfuzz encode: expected IN.fts and -o OUT.bin\n");
    usage(stderr);
    return CLI_USAGE;
  }

  if (transcript_load_file(&t, in, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  if (transcript_encode_binary(&t, &bin, &bin_len) != 0) {
    fprintf(stderr, "%s: cannot encode (out of memory)\n", in);
    goto out;
  }
  if (cli_atomic_open(&a, outp, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  if (bin_len > 0 && fwrite(bin, 1, bin_len, a.f) != bin_len) {
    fprintf(stderr, "%s: cannot write\n", outp);
    goto out;
  }
  if (cli_atomic_commit(&a, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  rc = CLI_OK;
out:
  cli_atomic_abort(&a);
  free(bin);
  transcript_cleanup(&t);
  return rc;
}
