/* campaign_proc.c - child processes in their own process groups, with
 * timeouts, interrupts and cleanup (see campaign_proc.h). */
#include "campaign_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_MAX 64                 /* process groups alive at once */
#define REPORT_READ_MAX (4u << 20)  /* bytes of a log scanned for the reason */

volatile sig_atomic_t campaign_interrupted;

static pid_t live[PROC_MAX];

static void on_signal(int sig) {
  (void)sig;
  if (campaign_interrupted < 100)
    campaign_interrupted++;
}

static void remember(pid_t pid) {
  for (size_t i = 0; i < PROC_MAX; i++)
    if (live[i] == 0) {
      live[i] = pid;
      return;
    }
}

static void forget(pid_t pid) {
  for (size_t i = 0; i < PROC_MAX; i++)
    if (live[i] == pid)
      live[i] = 0;
}

void campaign_proc_kill_all(void) {
  for (size_t i = 0; i < PROC_MAX; i++) {
    if (live[i] == 0)
      continue;
    kill(-live[i], SIGKILL);
    kill(live[i], SIGKILL);
    (void)waitpid(live[i], NULL, 0);
    live[i] = 0;
  }
}

void campaign_proc_init(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: a sleep or wait ends on Ctrl-C */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  atexit(campaign_proc_kill_all);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL); /* an interrupt ends it early, which is wanted */
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pid_t campaign_spawn(char *const argv[], const char *log_path, char *const env[],
                     const char *cwd) {
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "ftpsfuzz: cannot fork for %s: %s\n", argv[0], strerror(errno));
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) {
      dup2(in, STDIN_FILENO);
      close(in);
    }
    if (log_path != NULL) {
      int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) {
        fprintf(stderr, "ftpsfuzz: %s: %s\n", log_path, strerror(errno));
        _exit(127);
      }
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    if (cwd != NULL && chdir(cwd) != 0) {
      fprintf(stderr, "ftpsfuzz: cannot enter %s: %s\n", cwd, strerror(errno));
      _exit(127);
    }
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
      putenv(env[i]);
    execvp(argv[0], argv);
    fprintf(stderr, "ftpsfuzz: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no race with a kill before the child ran */
  remember(pid);
  return pid;
}

int campaign_wait(pid_t pid, long timeout_ms, int *out_status) {
  long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
  sig_atomic_t seen = campaign_interrupted;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      forget(pid);
      if (out_status != NULL)
        *out_status = status;
      return 1;
    }
    if (r < 0 && errno != EINTR) {
      forget(pid);
      return -1;
    }
    if (campaign_interrupted != seen)
      return 0;
    if (timeout_ms >= 0 && now_ms() >= deadline)
      return 0;
    sleep_ms(20);
  }
}

int campaign_stop(pid_t pid, int first_sig, long grace_ms) {
  int status = 0;
  kill(-pid, first_sig);
  long deadline = now_ms() + grace_ms;
  while (now_ms() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      /* the engine ended; its workers may linger in the group */
      kill(-pid, SIGKILL);
      forget(pid);
      return status;
    }
    sleep_ms(20);
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  forget(pid);
  return status;
}

int campaign_run(char *const argv[], const char *log_path, char *const env[], const char *cwd,
                 unsigned timeout_s, unsigned stop_after, bool *out_timed_out) {
  if (out_timed_out != NULL)
    *out_timed_out = false;
  pid_t pid = campaign_spawn(argv, log_path, env, cwd);
  if (pid < 0)
    return -1;
  long deadline = timeout_s ? now_ms() + (long)timeout_s * 1000 : 0;
  for (;;) {
    int status = 0;
    long left = timeout_s ? deadline - now_ms() : 1000;
    if (left < 0)
      left = 0;
    int r = campaign_wait(pid, left, &status);
    if (r == 1)
      return status;
    if (r < 0) {
      kill(-pid, SIGKILL);
      return -1;
    }
    if ((timeout_s && now_ms() >= deadline) || (stop_after && (unsigned)campaign_interrupted >= stop_after)) {
      if (out_timed_out != NULL)
        *out_timed_out = true;
      return campaign_stop(pid, SIGTERM, 2000);
    }
  }
}

void campaign_status_text(int status, char *out, size_t out_len) {
  if (WIFEXITED(status))
    snprintf(out, out_len, "exit %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(out, out_len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(out, out_len, "status 0x%x", (unsigned)status);
}

static bool has(const char *line, const char *needle) { return strstr(line, needle) != NULL; }

/* rank of a log line as the reason of a failure: higher is better. */
static int rank(const char *line) {
  if (!strncmp(line, "FINDING ", 8) || !strncmp(line, "VIOLATION ", 10))
    return 5;
  if (has(line, "ERROR: AddressSanitizer") || has(line, "ERROR: LeakSanitizer") ||
      has(line, "runtime error:") || has(line, "ERROR: UndefinedBehaviorSanitizer"))
    return 4;
  if (has(line, "ERROR: libFuzzer") || has(line, "==ERROR") || has(line, "ALARM: working on"))
    return 3;
  if (!strncmp(line, "replay: ", 8))
    return 2;
  return line[0] != '\0' ? 1 : 0;
}

void campaign_report_line(const char *path, char *out, size_t out_len) {
  if (out_len == 0)
    return;
  out[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return;
  char line[1024];
  int best = 0;
  size_t total = 0;
  while (total < REPORT_READ_MAX && fgets(line, sizeof(line), f) != NULL) {
    size_t n = strlen(line);
    total += n;
    bool whole = n > 0 && line[n - 1] == '\n';
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
      line[--n] = '\0';
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
        line[i] = '?';
    int r = rank(line);
    /* the first line of the best kind wins, but the last plain line */
    if (r > best || (r == 1 && best == 1)) {
      best = r;
      snprintf(out, out_len, "%s", line);
    }
    if (!whole) { /* skip the rest of an overlong line */
      int c;
      while ((c = fgetc(f)) != EOF && c != '\n')
        total++;
    }
  }
  fclose(f);
}
