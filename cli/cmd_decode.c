/* cmd_decode.c - `ftpsfuzz decode IN.bin [-o OUT.fts]`: the binary corpus form
 * to .fts text, on standard output unless -o is given (DESIGN section 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_atomic.h"
#include "transcript.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: ftpsfuzz decode IN.bin [-o OUT.fts]\n"
          "\n"
          "Convert a binary corpus file to canonical .fts text, printed on standard\n"
          "output unless -o is given (OUT.fts is written atomically).\n"
          "Exit status: 0 ok, 2 bad usage or input (FILE: offset N: what was expected).\n");
}

int cmd_decode(int argc, char **argv) {
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
        fprintf(stderr, "ftpsfuzz decode: expected one -o OUT.fts\n");
        usage(stderr);
        return CLI_USAGE;
      }
      outp = argv[++i];
    } else if (argv[i][0] == '-' && argv[i][1] != 0) {
      fprintf(stderr, "ftpsfuzz decode: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return CLI_USAGE;
    } else if (in == NULL) {
      in = argv[i];
    } else {
      fprintf(stderr, "ftpsfuzz decode: expected one input file, got '%s' too\n", argv[i]);
      usage(stderr);
      return CLI_USAGE;
    }
  }
  if (in == NULL) {
    fprintf(stderr, "ftpsfuzz decode: expected IN.bin\n");
    usage(stderr);
    return CLI_USAGE;
  }

  if (transcript_read_file(in, &bin, &bin_len, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  if (transcript_decode_binary(&t, bin, bin_len, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s: %s\n", in, err);
    goto out;
  }
  if (outp == NULL) {
    if (transcript_print_text(&t, stdout) != 0 || fflush(stdout) != 0) {
      fprintf(stderr, "ftpsfuzz decode: cannot write to standard output\n");
      goto out;
    }
  } else {
    if (cli_atomic_open(&a, outp, err, sizeof(err)) != 0) {
      fprintf(stderr, "%s\n", err);
      goto out;
    }
    if (transcript_print_text(&t, a.f) != 0) {
      fprintf(stderr, "%s: cannot write\n", outp);
      goto out;
    }
    if (cli_atomic_commit(&a, err, sizeof(err)) != 0) {
      fprintf(stderr, "%s\n", err);
      goto out;
    }
  }
  rc = CLI_OK;
out:
  cli_atomic_abort(&a);
  free(bin);
  transcript_cleanup(&t);
  return rc;
}
