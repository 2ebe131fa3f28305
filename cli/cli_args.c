/* cli_args.c - see cli_args.h. */
#include "cli_args.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out) {
  char *end = NULL;
  if (s[0] < '0' || s[0] > '9')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

int cli_split_target(const char *s, char *host, size_t host_len, char *port, size_t port_len) {
  const char *h = s, *colon;
  size_t hl;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':')
      return -1;
    h = s + 1;
    hl = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || strchr(s, ':') != colon)
      return -1;
    hl = (size_t)(colon - s);
  }
  uint64_t pv;
  if (hl == 0 || hl >= host_len || cli_parse_u64(colon + 1, 65535, &pv) != 0 || pv == 0 ||
      strlen(colon + 1) >= port_len)
    return -1;
  memcpy(host, h, hl);
  host[hl] = 0;
  snprintf(port, port_len, "%s", colon + 1);
  return 0;
}

int cli_resolve_once(const char *cmd, const char *host, const char *port, char *out,
                     size_t out_len) {
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int g = getaddrinfo(host, port, &hints, &ai);
  if (g != 0 || !ai) {
    fprintf(stderr, "ftpsfuzz %s: cannot resolve %s: %s\n", cmd, host, gai_strerror(g));
    return -1;
  }
  int r = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)out_len, NULL, 0,
                      NI_NUMERICHOST);
  freeaddrinfo(ai);
  if (r != 0) {
    fprintf(stderr, "ftpsfuzz %s: cannot resolve %s\n", cmd, host);
    return -1;
  }
  return 0;
}
