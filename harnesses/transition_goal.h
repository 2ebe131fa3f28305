/* transition_goal.h - a benchmark switch: how long does a campaign take to
 * take every model transition?
 *
 * With FTPSFUZZ_TRANSITIONS_GOAL=FILE in the environment (FILE: model row
 * names, one a line, '#' comments; `ftpsfuzz gen --cover --goal FILE` writes
 * the cover set's), the harness records the rows the oracle takes across all
 * inputs. When every row of the goal has been taken it prints
 *   ftpsfuzz: transition goal reached: N/N transitions after E inputs, T s
 * (T counted from the harness's initialization, before the engine's first
 * input) and ends
 * the process with _exit(0), which neither engine reports as a crash.
 * Without the variable every call is a no-op test of one static flag.
 * FTPSFUZZ_TRANSITIONS_GOAL_PROGRESS=1 also prints a line whenever a goal
 * row is first taken. */
#ifndef TRANSITION_GOAL_H
#define TRANSITION_GOAL_H

/* transition_goal_init reads the goal once per process (later calls do
 * nothing). An unreadable file or an unknown row name is a usage error:
 * it is printed and the process exits with status 2. */
void transition_goal_init(void);

/* transition_goal_row notes that the oracle took model row |row|. */
void transition_goal_row(int row);

/* transition_goal_input_done ends one input: counts it, and reports and
 * exits when the goal is complete. */
void transition_goal_input_done(void);

#endif
