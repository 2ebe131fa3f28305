/* campaign_proc.h - child processes for `ftpsfuzz fuzz` and `ftpsfuzz replay`.
 *
 * Every child runs in its own process group, so a fuzzing engine and the
 * workers it forks are stopped together (killpg), and a terminal's Ctrl-C
 * reaches only ftpsfuzz, which then stops its children itself. Every group
 * started is remembered until it is reaped; campaign_proc_kill_all() (also
 * run at exit) stops what is left, so no engine outlives ftpsfuzz. */
#ifndef FTPSFUZZ_CAMPAIGN_PROC_H
#define FTPSFUZZ_CAMPAIGN_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Set by the SIGINT/SIGTERM handler of campaign_proc_init (counts signals). */
extern volatile sig_atomic_t campaign_interrupted;

/* campaign_proc_init installs the SIGINT/SIGTERM handler (no SA_RESTART, so
 * sleeps end early) and the at-exit cleanup. Call once. */
void campaign_proc_init(void);

/* campaign_spawn starts argv[0] (searched in PATH) with |argv| in a new
 * process group. Standard output and error go to |log_path| (created or
 * truncated; NULL keeps ftpsfuzz's), standard input is /dev/null. |env| is a
 * NULL-terminated list of "NAME=VALUE" added to the environment (may be
 * NULL); |cwd| the working directory (NULL: unchanged). Returns the pid (also
 * the group id), or -1 with a message on stderr. */
pid_t campaign_spawn(char *const argv[], const char *log_path, char *const env[],
                     const char *cwd);

/* campaign_wait waits for |pid| up to |timeout_ms| (< 0: forever, 0: poll).
 * Returns 1 and the wait status in |*out_status| when it ended, 0 if it is
 * still running, -1 on error. A pending signal ends the wait early (0). */
int campaign_wait(pid_t pid, long timeout_ms, int *out_status);

/* campaign_stop stops the process group of |pid|: |first_sig| (e.g. SIGINT,
 * which lets libFuzzer and AFL++ write their state), then SIGKILL after
 * |grace_ms|, and reaps the child. Returns its wait status. */
int campaign_stop(pid_t pid, int first_sig, long grace_ms);

/* campaign_proc_kill_all SIGKILLs every group still remembered and reaps. */
void campaign_proc_kill_all(void);

/* campaign_run spawns |argv| and waits for it at most |timeout_s| seconds
 * (0: no limit), stopping it when the time is up or once |stop_after|
 * interrupts arrived (0: never). Returns the wait status, or -1 if it could
 * not be started; |*out_timed_out| (may be NULL) says whether it was
 * stopped. */
int campaign_run(char *const argv[], const char *log_path, char *const env[], const char *cwd,
                 unsigned timeout_s, unsigned stop_after, bool *out_timed_out);

/* campaign_status_text describes a wait status: "exit 3", "signal 6 (Aborted)". */
void campaign_status_text(int status, char *out, size_t out_len);

/* campaign_report_line finds, in the log file |path|, the line that best
 * says why a harness run failed: a harness "FINDING ..." or oracle
 * "VIOLATION ..." line, else a sanitizer "ERROR: ..." / "runtime error:"
 * line, else a libFuzzer "ERROR:"/"==...==" line, else the last non-empty
 * line. Copies it (without the newline, control bytes replaced by '?') into
 * |out|; "" if the log is empty or unreadable. Reads at most 4 MiB. */
void campaign_report_line(const char *path, char *out, size_t out_len);

#endif
