#ifndef CPINPOST_GPIOD_SHIMS_H
#define CPINPOST_GPIOD_SHIMS_H
/*
 * One stable, prefixed API over libgpiod 1.6 (Debian 12) and 2.x (newer distributions).
 * The implementation is chosen at build time from the installed <gpiod.h>: only v1 defines
 * GPIOD_LINE_BULK_MAX_LINES. No libgpiod type crosses this header, so Swift never sees them.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CPinpostGPIODLine CPinpostGPIODLine;

enum {
    CPINPOST_GPIOD_BIAS_AS_IS = 0,
    CPINPOST_GPIOD_BIAS_DISABLED = 1,
    CPINPOST_GPIOD_BIAS_PULL_UP = 2,
    CPINPOST_GPIOD_BIAS_PULL_DOWN = 3,
};

enum {
    CPINPOST_GPIOD_EDGE_NONE = 0,
    CPINPOST_GPIOD_EDGE_RISING = 1,
    CPINPOST_GPIOD_EDGE_FALLING = 2,
    CPINPOST_GPIOD_EDGE_BOTH = 3,
};

enum {
    CPINPOST_GPIOD_OK = 0,
    CPINPOST_GPIOD_NO_CHIP = 1,    /* no chip by that name, path or label */
    CPINPOST_GPIOD_NO_LINE = 2,    /* offset out of range, or no line with that name */
    CPINPOST_GPIOD_BUSY = 3,       /* line held by another consumer */
    CPINPOST_GPIOD_FAILED = 4,     /* request refused for another reason (see error_number) */
};

/* What a request found: filled on success and, as far as known, on failure. */
typedef struct {
    int status;
    int error_number;
    unsigned int offset;
    char chip_name[64];
    char chip_label[64];
    char consumer[64];     /* current consumer of the line, when busy */
} CPinpostGPIODResult;

/* 1 for libgpiod 1.x, 2 for 2.x: which implementation was compiled. */
int CPinpostGPIOD_api_major(void);
/* The library's own version string. */
const char *CPinpostGPIOD_version_string(void);

/*
 * Requests one input line. chip: a name ("gpiochip0"), a path ("/dev/gpiochip0"), a label, or
 * NULL to search every chip for line_name. offset < 0 means "by line_name".
 * bias: CPINPOST_GPIOD_BIAS_*, edges: CPINPOST_GPIOD_EDGE_* (NONE: no event fd needed).
 * Returns the line or NULL; result says what happened either way.
 */
CPinpostGPIODLine *CPinpostGPIOD_request_input(const char *chip, long offset, const char *line_name,
                                               int bias, int active_low, int edges,
                                               const char *consumer, CPinpostGPIODResult *result);

/*
 * Requests one output line, driven at the logical `initial_value` (0 or 1, active-low applied) from the
 * request on. Same lookup and result as CPinpostGPIOD_request_input.
 */
CPinpostGPIODLine *CPinpostGPIOD_request_output(const char *chip, long offset, const char *line_name,
                                                int active_low, int initial_value, const char *consumer,
                                                CPinpostGPIODResult *result);

/* Drives an output line to the logical value (0 or 1, active-low applied). 0, or a negative errno. */
int CPinpostGPIOD_set_value(CPinpostGPIODLine *line, int value);

/* The fd that becomes readable (POLLIN) when an edge event is queued; -1 without edges. */
int CPinpostGPIOD_event_fd(CPinpostGPIODLine *line);

/* Logical value (active-low applied): 0 or 1, or a negative errno (-EIO, ...). */
int CPinpostGPIOD_get_value(CPinpostGPIODLine *line);

/*
 * Reads up to `capacity` queued edge events without blocking beyond the kernel read (call after
 * poll says readable). rising[i] = 1 for a rising (logical) edge; timestamps on CLOCK_MONOTONIC.
 * Returns the number read (0 when none was pending: EAGAIN), or a negative errno. An interrupted read
 * (EINTR) is retried here, so Swift never loops on errno.
 */
int CPinpostGPIOD_read_events(CPinpostGPIODLine *line, int *rising, uint64_t *timestamp_ns, int capacity);

/* Releases the line and closes its chip. NULL is allowed. */
void CPinpostGPIOD_release(CPinpostGPIODLine *line);

#ifdef __cplusplus
}
#endif
#endif
