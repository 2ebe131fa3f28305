/* ftps_data.c - the data connection and the transfer on it (sans-IO).
 *
 * The transport reports what happens on the wire (listening, attach, bytes,
 * eof, closed); this file decides what it means: TLS on the data channel
 * under PROT P with the core as TLS server (RFC 4217 section 7), session
 * reuse, TYPE A conversion, the bytes of a download, committing an upload
 * only when it arrived whole, and the final reply after the close. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ftps_alloc.h"
#include "ftps_err.h"
#include "ftps_session_int.h"
#include "ftps_tls.h"

#define CHUNK 16384
/* A binary download reads four records' worth per read(): the file read is
 * the largest cost a download has beyond bare TLS (bench_transfer.sh). */
#define FILE_READ (4 * CHUNK)

static void pump(ftps_session *s);
static void upload_complete(ftps_session *s);

void data_init(ftps_session *s) {
  ftps_data *d = &s->data;
  memset(d, 0, sizeof(*d));
  ftps_buf_init(&d->in, FTPS_DATA_IN_MAX);
  /* One read may land on top of a full queue (plus TLS framing): FILE_READ
   * bytes, or a TYPE A chunk of CHUNK that may double. */
  ftps_buf_init(&d->out, FTPS_DATA_OUT_MAX + FILE_READ + 1024);
  ftps_buf_init(&d->listing, FTPS_LISTING_MAX);
}

static void free_data_tls(ftps_data *d) {
  SSL_free(d->ssl);
  d->ssl = NULL;
  d->net_in = d->net_out = NULL;
}

void data_describe(ftps_session *s, const char *verb, const char *path) {
  ftps_data *d = &s->data;
  snprintf(d->xfer_verb, sizeof(d->xfer_verb), "%s", verb);
  snprintf(d->xfer_path, sizeof(d->xfer_path), "%s", path);
}

/* record_transfer queues FTPS_EV_TRANSFER for the transfer ending with
 * |code| (the operator's log; nothing in the core depends on it). */
static void record_transfer(ftps_session *s, int code) {
  ftps_data *d = &s->data;
  session_event(s, FTPS_EV_TRANSFER, d->xfer_path);
  ftps_event *ev = &s->events[(s->ev_head + s->ev_count - 1) % FTPS_EVENT_RING];
  memset(&ev->xfer, 0, sizeof(ev->xfer));
  memcpy(ev->xfer.verb, d->xfer_verb, sizeof(ev->xfer.verb));
  ev->xfer.upload = d->kind == XFER_RECV;
  ev->xfer.path_cut = strlen(d->xfer_path) >= sizeof(ev->detail);
  ev->xfer.bytes = d->bytes;
  ev->xfer.ms = s->now >= d->xfer_started ? s->now - d->xfer_started : 0;
  ev->xfer.code = code;
}

static void end_transfer(ftps_session *s) {
  ftps_data *d = &s->data;
  if (d->file) {
    s->srv->vfs->ops->close(d->file); /* an uncommitted upload is discarded */
    d->file = NULL;
  }
  free_data_tls(d);
  ftps_buf_reset(&d->in);
  ftps_buf_cleanup(&d->listing);
  ftps_buf_init(&d->listing, FTPS_LISTING_MAX);
  d->listing_off = 0;
  d->kind = XFER_NONE;
  d->phase = PHASE_IDLE;
  d->attached = false;
  d->source_done = d->peer_eof = d->peer_close_notify = d->cr_pending = false;
  d->bytes = 0;
  /* Each transfer needs a fresh PASV/EPSV/PORT/EPRT. */
  d->mode = DATA_NONE;
}

void data_cleanup(ftps_session *s) {
  end_transfer(s);
  ftps_buf_cleanup(&s->data.in);
  ftps_buf_cleanup(&s->data.out);
  s->data.out_off = 0;
  ftps_buf_cleanup(&s->data.listing);
}

bool data_busy(const ftps_session *s) { return s->data.kind != XFER_NONE; }

void data_forget_mode(ftps_session *s, const char *why) {
  ftps_data *d = &s->data;
  if (d->mode == DATA_PASSIVE || d->attached)
    session_event(s, FTPS_EV_DATA_CLOSE, why);
  d->attached = false;
  ftps_buf_reset(&d->in);
  d->mode = DATA_NONE;
}

/* Closes the data connection; |code|/|text| is the reply the transfer
 * command gets once the transport reports the close. */
static void finish(ftps_session *s, int code, const char *text) {
  ftps_data *d = &s->data;
  if (d->file) {
    s->srv->vfs->ops->close(d->file);
    d->file = NULL;
  }
  d->final_code = code;
  snprintf(d->final_text, sizeof(d->final_text), "%s", text);
  d->phase = PHASE_CLOSING;
  session_event(s, FTPS_EV_DATA_CLOSE, text);
}

void data_abort(ftps_session *s, int code, const char *text) {
  ftps_data *d = &s->data;
  bool was_busy = data_busy(s);
  /* A transfer cut short: its decided outcome if it had one (an upload
   * already committed stays stored), else the abort's code (426 when the
   * control connection went away). */
  if (was_busy)
    record_transfer(s, d->phase == PHASE_CLOSING ? d->final_code : code ? code : 426);
  if (d->attached || d->mode == DATA_PASSIVE || was_busy)
    session_event(s, FTPS_EV_DATA_CLOSE, text);
  ftps_buf_reset(&d->out);
  d->out_off = 0;
  end_transfer(s);
  if (was_busy && code)
    session_reply(s, code, text);
}

void data_start(ftps_session *s, xfer_kind kind, const char *preliminary_text) {
  ftps_data *d = &s->data;
  d->kind = kind;
  d->phase = PHASE_CONNECT;
  d->ascii = s->type == 'A';
  d->bytes = 0;
  d->rest_set = false;
  d->xfer_started = s->now;
  session_reply(s, 150, preliminary_text);
  if (s->closed)
    return;
  if (d->mode == DATA_ACTIVE && !d->attached)
    session_event_addr(s, FTPS_EV_DATA_CONNECT, &d->active);
  pump(s);
}

/* Moves whatever the data TLS engine wrote (records, handshake, alerts) to
 * |out|, read straight into the buffer's spare room. */
static int drain_tls(ftps_data *d) {
  size_t pending;
  while (d->net_out && (pending = BIO_ctrl_pending(d->net_out)) > 0) {
    uint8_t *space;
    int rc = ftps_buf_reserve(&d->out, pending, &space);
    if (rc != 0)
      return rc;
    int got = BIO_read(d->net_out, space, (int)pending);
    if (got <= 0)
      return FTPS_ERR_TLS;
    ftps_buf_commit(&d->out, (size_t)got);
  }
  return 0;
}

/* Queues payload bytes for the client, through TLS under PROT P. */
static int send_payload(ftps_session *s, const uint8_t *p, size_t n) {
  ftps_data *d = &s->data;
  if (n == 0)
    return 0;
  if (!d->ssl)
    return ftps_buf_append(&d->out, p, n);
  ERR_clear_error();
  if (SSL_write(d->ssl, p, (int)n) != (int)n)
    return FTPS_ERR_TLS;
  return drain_tls(d);
}



/* RFC 959 TYPE A: the file's LF line ends go out as CRLF. */
static size_t ascii_encode(const uint8_t *in, size_t n, uint8_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '\n')
      out[o++] = '\r';
    out[o++] = in[i];
  }
  return o;
}

/* ... and CRLF comes in as LF; a CR not followed by LF is kept. */
static size_t ascii_decode(ftps_data *d, const uint8_t *in, size_t n, uint8_t *out) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (d->cr_pending) {
      d->cr_pending = false;
      if (in[i] != '\n')
        out[o++] = '\r';
    }
    if (in[i] == '\r')
      d->cr_pending = true;
    else
      out[o++] = in[i];
  }
  return o;
}

/* RFC 4217 section 7: a protected transfer ends with the TLS close_notify,
 * so the client can tell the end from a truncation. */
static void send_close_notify(ftps_data *d) {
  if (!d->ssl)
    return;
  ERR_clear_error();
  SSL_shutdown(d->ssl);
  ERR_clear_error();
  (void)drain_tls(d);
}

static void produce(ftps_session *s) {
  ftps_data *d = &s->data;
  uint8_t raw[FILE_READ], enc[2 * CHUNK];
  if (d->out_off > 0) { /* what was sent goes; the rest moves to the front */
    ftps_buf_consume(&d->out, d->out_off);
    d->out_off = 0;
  }
  while (!d->source_done && d->out.len < FTPS_DATA_OUT_MAX) {
    size_t n = 0;
    if (d->file) {
      int err = s->srv->vfs->ops->read(d->file, raw, d->ascii ? CHUNK : FILE_READ, &n);
      if (err) {
        finish(s, 451, "Read error; transfer aborted.");
        return;
      }
    } else {
      n = d->listing.len - d->listing_off;
      if (n > CHUNK)
        n = CHUNK;
      if (n > 0) /* an empty listing has no storage at all */
        memcpy(raw, d->listing.data + d->listing_off, n);
      d->listing_off += n;
    }
    if (n == 0) {
      d->source_done = true;
      break;
    }
    const uint8_t *p = raw;
    size_t len = n;
    if (d->ascii && d->file) { /* listings are already CRLF text */
      len = ascii_encode(raw, n, enc);
      p = enc;
    }
    if (send_payload(s, p, len) != 0) {
      finish(s, 426, "Data connection error; transfer aborted.");
      return;
    }
    d->bytes += n;
  }
  if (d->source_done) {
    send_close_notify(d);
    finish(s, 226, "Transfer complete.");
  }
}

/* Upload bytes: decrypt under TLS, convert under TYPE A, write. */
static void consume(ftps_session *s) {
  ftps_data *d = &s->data;
  /* dec: a CR held back from the previous chunk comes out in front of this
   * one's bytes (ascii_decode), so one more than a chunk. */
  uint8_t plain[CHUNK], dec[CHUNK + 1];
  for (;;) {
    size_t n = 0;
    if (d->ssl) {
      ERR_clear_error();
      int r = SSL_read(d->ssl, plain, sizeof(plain));
      if (r > 0) {
        n = (size_t)r;
      } else {
        int err = SSL_get_error(d->ssl, r);
        (void)drain_tls(d);
        if (err == SSL_ERROR_ZERO_RETURN) {
          /* The client's close_notify is the end of a protected upload
           * (RFC 4217 section 7); clients such as Python's ssl wait for ours
           * before closing the socket, so finish now, not at EOF. */
          d->peer_close_notify = true;
          upload_complete(s);
          return;
        }
        if (err != SSL_ERROR_WANT_READ) {
          finish(s, 426, "TLS error on the data connection; upload discarded.");
        }
        return;
      }
    } else {
      n = d->in.len < sizeof(plain) ? d->in.len : sizeof(plain);
      if (n == 0)
        return;
      memcpy(plain, d->in.data, n);
      ftps_buf_consume(&d->in, n);
    }
    const uint8_t *p = plain;
    size_t len = n;
    if (d->ascii) {
      len = ascii_decode(d, plain, n, dec);
      p = dec;
    }
    int err = len ? s->srv->vfs->ops->write(d->file, p, len) : 0;
    if (err) {
      finish(s, err == FTPS_ERR_LIMIT ? 552 : 451,
             err == FTPS_ERR_LIMIT ? "Storage limit exceeded; upload discarded."
                                   : "Write error; upload discarded.");
      return;
    }
    d->bytes += n;
  }
}

static void upload_complete(ftps_session *s) {
  ftps_data *d = &s->data;
  if (d->ssl && !d->peer_close_notify) {
    /* A TLS upload that ends without close_notify may have been cut off by
     * an attacker: keep the old file. */
    finish(s, 426, "Upload ended without TLS close_notify; discarded.");
    return;
  }
  if (d->ascii && d->cr_pending) {
    d->cr_pending = false;
    if (s->srv->vfs->ops->write(d->file, (const uint8_t *)"\r", 1) != 0) {
      finish(s, 451, "Write error; upload discarded.");
      return;
    }
  }
  int err = s->srv->vfs->ops->commit(d->file);
  if (err) {
    finish(s, err == FTPS_ERR_LIMIT ? 552 : 451, "Could not store the file; nothing changed.");
    return;
  }
  send_close_notify(d);
  finish(s, 226, "Transfer complete.");
}

static void start_data_tls(ftps_session *s) {
  ftps_data *d = &s->data;
  d->ssl = ftps_tls_new_server_ssl(s->srv->tls_ctx, &s->ticket_keys, &d->net_in, &d->net_out);
  if (!d->ssl) {
    finish(s, 425, "Cannot start TLS on the data connection.");
    return;
  }
  if (d->in.len && BIO_write(d->net_in, d->in.data, (int)d->in.len) != (int)d->in.len) {
    finish(s, 425, "Cannot start TLS on the data connection.");
    return;
  }
  ftps_buf_reset(&d->in);
  d->phase = PHASE_TLS;
}

static void step_data_handshake(ftps_session *s) {
  ftps_data *d = &s->data;
  ERR_clear_error();
  int r = SSL_do_handshake(d->ssl);
  if (drain_tls(d) != 0) {
    finish(s, 425, "Out of memory on the data connection.");
    return;
  }
  if (r != 1) {
    if (SSL_get_error(d->ssl, r) == SSL_ERROR_WANT_READ)
      return;
    char why[96], text[160];
    ftps_tls_error_string(why, sizeof(why), "handshake failed");
    snprintf(text, sizeof(text), "TLS handshake on the data connection failed (%s).", why);
    finish(s, 425, text);
    return;
  }
  /* vsftpd's require_ssl_reuse: the data connection must resume the control
   * connection's session, proving it comes from the same client. Tickets are
   * keyed per control connection, so "reused" means "this one's". */
  if (s->srv->policy.require_tls_reuse && !SSL_session_reused(d->ssl)) {
    finish(s, 522, "Data connection TLS must resume the control connection's session "
                   "(server policy require_tls_reuse); use a client that reuses the session.");
    return;
  }
  d->phase = PHASE_MOVING;
}

/* Advances the transfer as far as it can go now. */
static void pump(ftps_session *s) {
  ftps_data *d = &s->data;
  for (int i = 0; i < 64 && !s->closed; i++) {
    xfer_phase before = d->phase;
    switch (d->phase) {
    case PHASE_IDLE:
    case PHASE_CLOSING:
      return;
    case PHASE_CONNECT:
      if (!d->attached)
        return;
      if (s->prot == 'P')
        start_data_tls(s);
      else
        d->phase = PHASE_MOVING;
      break;
    case PHASE_TLS:
      step_data_handshake(s);
      break;
    case PHASE_MOVING:
      if (d->kind == XFER_SEND) {
        produce(s);
      } else {
        consume(s);
        if (d->phase == PHASE_MOVING && d->peer_eof)
          upload_complete(s);
      }
      return;
    }
    if (d->phase == before)
      return;
  }
}

/* --- transport-facing API (ftps_session.h) --- */

void ftps_session_set_addresses(ftps_session *s, const ftps_addr *peer, const ftps_addr *local) {
  if (peer)
    s->peer = *peer;
  if (local)
    s->local = *local;
}

void ftps_session_data_listening(ftps_session *s, int status, uint16_t port) {
  ftps_data *d = &s->data;
  if (s->closed || d->mode != DATA_PASV_WAIT)
    return;
  if (status != 0) {
    d->mode = DATA_NONE;
    session_reply(s, 425, "Cannot open a passive data connection.");
  } else {
    d->mode = DATA_PASSIVE;
    char text[96];
    if (d->extended) {
      /* RFC 2428 section 3: "229 Entering Extended Passive Mode (|||port|)". */
      snprintf(text, sizeof(text), "Entering Extended Passive Mode (|||%u|)", (unsigned)port);
      session_reply(s, 229, text);
    } else {
      const uint8_t *ip = s->local.ip;
      snprintf(text, sizeof(text), "Entering Passive Mode (%u,%u,%u,%u,%u,%u).", ip[0], ip[1],
               ip[2], ip[3], (unsigned)(port >> 8), (unsigned)(port & 0xff));
      session_reply(s, 227, text);
    }
  }
  /* Control input waited for this answer. */
  size_t used;
  ftps_session_feed(s, NULL, 0, &used);
}

int ftps_session_data_attach(ftps_session *s, const ftps_addr *peer) {
  ftps_data *d = &s->data;
  if (s->closed || d->attached || (d->mode != DATA_PASSIVE && d->mode != DATA_ACTIVE))
    return FTPS_ERR_PERM;
  /* RFC 2577 section 3: a passive connection from another host is someone
   * stealing the transfer. */
  if (d->mode == DATA_PASSIVE && peer && s->peer.family &&
      (peer->family != s->peer.family || memcmp(peer->ip, s->peer.ip, 16) != 0))
    return FTPS_ERR_PERM;
  d->attached = true;
  pump(s);
  return 0;
}

void ftps_session_data_failed(ftps_session *s, const char *why) {
  ftps_data *d = &s->data;
  if (s->closed)
    return;
  if (d->phase == PHASE_CLOSING) {
    /* The transport gave up while closing: the reply stands. */
    return;
  }
  if (!data_busy(s)) {
    d->attached = false;
    return;
  }
  char text[160];
  snprintf(text, sizeof(text), "%s (%s).",
           d->phase == PHASE_CONNECT ? "Cannot open the data connection"
                                     : "Data connection failed; transfer aborted",
           why ? why : "transport error");
  finish(s, d->phase == PHASE_CONNECT ? 425 : 426, text);
}

int ftps_session_data_feed(ftps_session *s, const uint8_t *in, size_t len, size_t *out_consumed) {
  ftps_data *d = &s->data;
  *out_consumed = 0;
  if (s->closed)
    return FTPS_ERR_CLOSED;
  if (!d->attached || d->phase == PHASE_CLOSING)
    return 0;
  while (len > 0) {
    size_t n;
    if (d->ssl) {
      size_t held = BIO_ctrl_pending(d->net_in);
      n = held >= FTPS_DATA_IN_MAX ? 0 : FTPS_DATA_IN_MAX - held;
      if (n > len)
        n = len;
      if (n && BIO_write(d->net_in, in, (int)n) != (int)n)
        n = 0;
    } else {
      n = ftps_buf_room(&d->in);
      if (n > len)
        n = len;
      if (n && ftps_buf_append(&d->in, in, n) != 0)
        n = 0;
    }
    if (n == 0)
      break;
    in += n;
    len -= n;
    *out_consumed += n;
    pump(s);
    if (d->phase == PHASE_CLOSING || d->phase == PHASE_IDLE)
      break;
  }
  return 0;
}

const uint8_t *ftps_session_data_output(const ftps_session *s, size_t *out_len) {
  *out_len = s->data.out.len - s->data.out_off;
  /* No storage yet: NULL, never NULL plus an offset (undefined in C). */
  return s->data.out.data != NULL ? s->data.out.data + s->data.out_off : NULL;
}

/* Sent bytes are skipped, not moved: the queue is refilled (and compacted
 * once) only when it has run below half, so a download copies each byte
 * into it once instead of shifting the whole queue after every send. */
void ftps_session_data_output_consume(ftps_session *s, size_t n) {
  ftps_data *d = &s->data;
  size_t queued = d->out.len - d->out_off;
  if (n > queued)
    n = queued;
  d->out_off += n;
  if (d->out_off == d->out.len) {
    ftps_buf_reset(&d->out);
    d->out_off = 0;
  }
  if (!s->closed && d->phase == PHASE_MOVING && d->kind == XFER_SEND &&
      d->out.len - d->out_off < FTPS_DATA_OUT_MAX / 2)
    pump(s);
}

void ftps_session_data_eof(ftps_session *s) {
  ftps_data *d = &s->data;
  if (s->closed || !d->attached)
    return;
  d->peer_eof = true;
  if (d->kind == XFER_RECV && d->phase == PHASE_MOVING) {
    consume(s);
    if (d->phase == PHASE_MOVING)
      upload_complete(s);
  } else if (d->phase == PHASE_CONNECT || d->phase == PHASE_TLS) {
    finish(s, 425, "Data connection closed before the transfer started.");
  }
}

void ftps_session_data_closed(ftps_session *s) {
  ftps_data *d = &s->data;
  /* Only a transfer's own close carries its final reply. A close the core
   * asked for outside a transfer (a new PASV, ABOR) may be reported after
   * the next data connection was set up, and must not disturb it. */
  if (s->closed || d->phase != PHASE_CLOSING)
    return;
  int code = d->final_code;
  char text[sizeof(d->final_text)];
  memcpy(text, d->final_text, sizeof(text));
  record_transfer(s, code);
  ftps_buf_reset(&d->out);
  d->out_off = 0;
  end_transfer(s);
  session_reply(s, code, text);
  size_t used;
  ftps_session_feed(s, NULL, 0, &used);
}

bool ftps_session_data_waiting(const ftps_session *s) {
  const ftps_data *d = &s->data;
  if (s->closed)
    return false;
  if (d->mode == DATA_PASSIVE && !d->attached)
    return true;
  return (d->attached && d->phase == PHASE_IDLE) || d->phase == PHASE_CONNECT ||
         d->phase == PHASE_TLS;
}
