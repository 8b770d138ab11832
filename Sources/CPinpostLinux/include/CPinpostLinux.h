#ifndef CPINPOSTLINUX_H
#define CPINPOSTLINUX_H
// Linux calls whose structs or constants Swift cannot use comfortably
// (struct timex has anonymous padding bit-fields; STA_* are macros).
#ifdef __linux__
#include <spawn.h>

/// Kernel clock discipline state, read with adjtimex(2) without changing anything.
typedef struct {
    /// adjtimex return value: TIME_OK(0)..TIME_ERROR(5), or -1 with errno set.
    int state;
    /// 1 when STA_UNSYNC is set: the kernel does not consider the clock synchronized.
    int unsynchronized;
    /// Maximum error estimate, microseconds.
    long max_error_us;
    /// Estimated error, microseconds.
    long estimated_error_us;
} CPinpostLinux_clock_status;

/// Reads the clock status. Returns 0 on success, -1 with errno set.
int CPinpostLinux_read_clock_status(CPinpostLinux_clock_status *out);

/// TIME_ERROR, the adjtimex state meaning "clock not synchronized".
extern const int CPinpostLinux_TIME_ERROR;

/// A timerfd on CLOCK_REALTIME armed far in the future with TFD_TIMER_CANCEL_ON_SET: it becomes
/// readable (and a read fails with ECANCELED) the moment anyone steps the wall clock.
/// Returns the fd, or -1 with errno set. Non-blocking, close-on-exec.
int CPinpostLinux_clock_step_fd(void);

/// Consumes a wake-up of a clock-step fd and re-arms it. Returns 1 if the clock was stepped,
/// 0 if nothing was pending, -1 on another error (errno set).
int CPinpostLinux_clock_step_consume(int fd);

/// Seconds since the epoch (UTC) when this file was compiled: SOURCE_DATE_EPOCH when the build
/// defines it, else __DATE__/__TIME__ (the compiler's local time, usually UTC on build machines).
long long CPinpostLinux_build_epoch(void);

/// Adds "close every descriptor from `lowest` up" to a posix_spawn file-actions list, so a child inherits only
/// what the list sets up explicitly (glibc's posix_spawn_file_actions_addclosefrom_np, which Swift cannot see).
/// Returns 0, or an errno value.
int CPinpostLinux_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, with no window for a concurrent spawn.
/// Returns 0, or -1 with errno set.
int CPinpostLinux_pipe_cloexec(int fds[2]);

/// accept4(fd, NULL, NULL, SOCK_CLOEXEC): the connection is close-on-exec from the start (accept4 is hidden
/// from Swift like pipe2). Returns the descriptor, or -1 with errno set.
int CPinpostLinux_accept_cloexec(int fd);

#endif
#endif
