/* ftps_cmdline.c - see ftps_cmdline.h.
 *
 * The framer is a byte-at-a-time state machine, so its result depends only on
 * the byte stream and never on where reads split it. Two layers:
 *   1. Telnet (RFC 854): IAC sequences are removed, giving data bytes.
 *   2. Lines: data bytes are collected until LF; a CR directly before the LF
 *      is part of the line end, any other CR is data. */
#include "ftps_cmdline.h"

#include <string.h>

#include "ftps_err.h"

/* RFC 854 command codes. */
#define TELNET_IAC 255
#define TELNET_CMD_MIN 240 /* SE: the lowest Telnet command code */
#define TELNET_DONT 254
#define TELNET_DO 253
#define TELNET_WONT 252
#define TELNET_WILL 251

enum {
  IAC_DATA = 0, /* ordinary data */
  IAC_SEEN,     /* after IAC */
  IAC_OPTION,   /* after IAC WILL/WONT/DO/DONT: the next byte is the option */
};

void ftps_linebuf_init(ftps_linebuf *lb) {
  ftps_buf_init(&lb->line, FTPS_LINE_MAX);
  lb->iac_state = IAC_DATA;
  lb->pending_cr = false;
  lb->overlong = false;
  lb->has_nul = false;
  lb->ready = false;
}

void ftps_linebuf_cleanup(ftps_linebuf *lb) {
  ftps_buf_cleanup(&lb->line);
  ftps_linebuf_reset(lb);
}

void ftps_linebuf_reset(ftps_linebuf *lb) {
  ftps_buf_reset(&lb->line);
  lb->iac_state = IAC_DATA;
  lb->pending_cr = false;
  lb->overlong = false;
  lb->has_nul = false;
  lb->ready = false;
}

bool ftps_linebuf_partial(const ftps_linebuf *lb) {
  if (lb->ready)
    return false;
  return lb->line.len > 0 || lb->pending_cr || lb->overlong || lb->has_nul ||
         lb->iac_state != IAC_DATA;
}

const uint8_t *ftps_linebuf_line(const ftps_linebuf *lb, size_t *out_len) {
  if (!lb->ready) {
    *out_len = 0;
    return NULL;
  }
  *out_len = lb->line.len;
  /* A zero-length line still needs a non-NULL pointer. */
  return lb->line.data != NULL ? lb->line.data : (const uint8_t *)"";
}

/* add_data appends one data byte to the current line. Once the line is over
 * the limit its bytes are dropped at once (memory stays bounded) and only the
 * fact is remembered until the line end. */
static void add_data(ftps_linebuf *lb, uint8_t c) {
  if (c == 0)
    lb->has_nul = true;
  if (lb->overlong)
    return;
  if (ftps_buf_append_byte(&lb->line, c) != 0) {
    /* FTPS_ERR_LIMIT (the cap is FTPS_LINE_MAX), or NOMEM: either way this
     * line cannot be delivered whole, so it is refused as too long. */
    lb->overlong = true;
    ftps_buf_reset(&lb->line);
  }
}

/* end_line finishes the current line at its LF and returns its status. */
static ftps_line_status end_line(ftps_linebuf *lb) {
  ftps_line_status st;
  if (lb->overlong)
    st = FTPS_LINE_TOO_LONG;
  else if (lb->has_nul)
    st = FTPS_LINE_HAS_NUL;
  else
    st = FTPS_LINE_OK;
  lb->pending_cr = false;
  lb->overlong = false;
  lb->has_nul = false;
  if (st == FTPS_LINE_OK) {
    lb->ready = true;
  } else {
    ftps_buf_reset(&lb->line);
  }
  return st;
}

/* data_byte runs the line layer on one Telnet-decoded byte. Returns a status
 * other than FTPS_LINE_NONE when this byte ended a line. */
static ftps_line_status data_byte(ftps_linebuf *lb, uint8_t c) {
  /* RFC 959 4.1.3: "the end of line ... <CRLF>"; a bare LF is tolerated. */
  if (c == '\n')
    return end_line(lb);
  if (lb->pending_cr) {
    /* The held CR was not followed by LF: it is data. */
    lb->pending_cr = false;
    add_data(lb, '\r');
  }
  if (c == '\r')
    lb->pending_cr = true;
  else
    add_data(lb, c);
  return FTPS_LINE_NONE;
}

size_t ftps_linebuf_feed(ftps_linebuf *lb, const uint8_t *in, size_t len,
                         ftps_line_status *out_status) {
  if (lb->ready) {
    /* The previous line has been handed out; start the next one. */
    lb->ready = false;
    ftps_buf_reset(&lb->line);
  }
  for (size_t i = 0; i < len; i++) {
    uint8_t c = in[i];
    switch (lb->iac_state) {
    case IAC_SEEN:
      if (c == TELNET_IAC) {
        /* RFC 854: IAC IAC is data byte 255. */
        lb->iac_state = IAC_DATA;
        break;
      }
      if (c < TELNET_CMD_MIN) {
        /* Not a Telnet command (RFC 854 defines 240..255): the IAC is
         * dropped and the byte is data, so a line end is never eaten. */
        lb->iac_state = IAC_DATA;
        break;
      }
      lb->iac_state = (c >= TELNET_WILL && c <= TELNET_DONT) ? IAC_OPTION : IAC_DATA;
      continue; /* IAC <cmd> and the WILL/WONT/DO/DONT opcode are dropped */
    case IAC_OPTION:
      lb->iac_state = IAC_DATA;
      if (c == '\r' || c == '\n')
        break; /* a line end is never an option byte */
      continue; /* the option byte is dropped */
    default:
      if (c == TELNET_IAC) {
        lb->iac_state = IAC_SEEN;
        continue;
      }
      break;
    }
    ftps_line_status st = data_byte(lb, c);
    if (st != FTPS_LINE_NONE) {
      *out_status = st;
      return i + 1;
    }
  }
  *out_status = FTPS_LINE_NONE;
  return len;
}

static bool is_alpha(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

int ftps_cmd_parse(const uint8_t *line, size_t len, ftps_cmd *out) {
  memset(out, 0, sizeof(*out));
  if (line == NULL)
    return FTPS_ERR_INVAL;
  size_t n = 0;
  while (n < len && is_alpha(line[n])) {
    if (n == 4)
      return FTPS_ERR_INVAL; /* a fifth letter: "USERX" is not "USER" */
    n++;
  }
  /* RFC 959 5.3.1: "The command codes themselves are alphabetic characters
   * terminated by the character <SP> (Space) if parameters follow and
   * Telnet-EOL otherwise." Codes are "four or fewer" letters; all are >= 3. */
  if (n < 3 || (n < len && line[n] != ' '))
    return FTPS_ERR_INVAL;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = line[i];
    out->verb[i] = (char)(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
  }
  out->verb[n] = '\0';
  if (n < len) {
    out->arg = line + n + 1;
    out->arg_len = len - n - 1;
  }
  return 0;
}
