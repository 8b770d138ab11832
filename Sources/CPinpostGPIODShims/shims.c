/*
 * CPinpostGPIODShims: the stable API of CPinpostGPIODShims.h over libgpiod 1.6 and 2.x.
 *
 * Which implementation is compiled depends on the installed <gpiod.h>: only libgpiod 1.x
 * defines GPIOD_LINE_BULK_MAX_LINES (GPIOD_VERSION_STR / GPIOD_API_VERSION are not macros in
 * either series, so they cannot be used to tell them apart).
 */
#include "CPinpostGPIODShims.h"

#include <gpiod.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef GPIOD_LINE_BULK_MAX_LINES
#define CPINPOST_GPIOD_V1 1
#else
#define CPINPOST_GPIOD_V2 1
#endif

static void copy_text(char *destination, size_t size, const char *source) {
    if (size == 0) return;
    snprintf(destination, size, "%s", source ? source : "");
}

static int compare_names(const void *a, const void *b) {
    /* gpiochip2 before gpiochip10 */
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    if (lx != ly) return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

/* The /dev/gpiochip* paths, in numeric order; returns count, fills *out (caller frees). */
static size_t list_chip_paths(char ***out) {
    *out = NULL;
    DIR *dir = opendir("/dev");
    if (!dir) return 0;
    size_t count = 0, capacity = 0;
    char **paths = NULL;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, "gpiochip", 8) != 0) continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 8;
            char **grown = realloc(paths, capacity * sizeof(char *));
            if (!grown) break;
            paths = grown;
        }
        size_t length = strlen(entry->d_name) + 6;
        paths[count] = malloc(length);
        if (!paths[count]) break;
        snprintf(paths[count], length, "/dev/%s", entry->d_name);
        count++;
    }
    closedir(dir);
    qsort(paths, count, sizeof(char *), compare_names);
    *out = paths;
    return count;
}

static void free_paths(char **paths, size_t count) {
    for (size_t i = 0; i < count; i++) free(paths[i]);
    free(paths);
}

#if CPINPOST_GPIOD_V1
/* ------------------------------------------------------------------ libgpiod 1.6 */

struct CPinpostGPIODLine {
    struct gpiod_chip *chip;
    struct gpiod_line *line;
    int has_events;
};

int CPinpostGPIOD_api_major(void) { return 1; }
const char *CPinpostGPIOD_version_string(void) { return gpiod_version_string(); }

static void describe_chip(struct gpiod_chip *chip, CPinpostGPIODResult *result) {
    copy_text(result->chip_name, sizeof result->chip_name, gpiod_chip_name(chip));
    copy_text(result->chip_label, sizeof result->chip_label, gpiod_chip_label(chip));
}

/* Opens a chip by path, by name under /dev, or by label. */
static struct gpiod_chip *open_chip(const char *descriptor) {
    if (descriptor[0] == '/') return gpiod_chip_open(descriptor);
    char path[128];
    snprintf(path, sizeof path, "/dev/%s", descriptor);
    struct stat info;
    if (strchr(descriptor, '/') == NULL && stat(path, &info) == 0) return gpiod_chip_open(path);
    char **paths;
    size_t count = list_chip_paths(&paths);
    struct gpiod_chip *found = NULL;
    for (size_t i = 0; i < count && !found; i++) {
        struct gpiod_chip *chip = gpiod_chip_open(paths[i]);
        if (!chip) continue;
        if (strcmp(gpiod_chip_label(chip), descriptor) == 0) found = chip;
        else gpiod_chip_close(chip);
    }
    free_paths(paths, count);
    if (!found) errno = ENOENT;
    return found;
}

/*
 * Finds the line by chip (name, path or label) and offset, or by name (on one chip or across all).
 * On success *chip_out and *line_out are set and result names the chip and offset; on failure
 * result says why and NULL is returned with nothing left open.
 */
static struct gpiod_line *locate_line(const char *chip_descriptor, long offset, const char *line_name,
                                      struct gpiod_chip **chip_out, CPinpostGPIODResult *result) {
    memset(result, 0, sizeof *result);
    struct gpiod_chip *chip = NULL;
    struct gpiod_line *line = NULL;
    *chip_out = NULL;

    if (chip_descriptor) {
        chip = open_chip(chip_descriptor);
        if (!chip) {
            result->status = CPINPOST_GPIOD_NO_CHIP;
            result->error_number = errno;
            return NULL;
        }
        describe_chip(chip, result);
        if (offset >= 0) {
            if ((unsigned long)offset >= gpiod_chip_num_lines(chip)) {
                result->status = CPINPOST_GPIOD_NO_LINE;
                result->offset = (unsigned int)offset;
                gpiod_chip_close(chip);
                return NULL;
            }
            line = gpiod_chip_get_line(chip, (unsigned int)offset);
        } else {
            line = gpiod_chip_find_line(chip, line_name);
        }
        if (!line) {
            result->status = CPINPOST_GPIOD_NO_LINE;
            result->error_number = errno;
            gpiod_chip_close(chip);
            return NULL;
        }
    } else {
        char **paths;
        size_t count = list_chip_paths(&paths);
        for (size_t i = 0; i < count && !line; i++) {
            struct gpiod_chip *candidate = gpiod_chip_open(paths[i]);
            if (!candidate) continue;
            line = gpiod_chip_find_line(candidate, line_name);
            if (line) chip = candidate;
            else gpiod_chip_close(candidate);
        }
        free_paths(paths, count);
        if (!line) {
            result->status = count ? CPINPOST_GPIOD_NO_LINE : CPINPOST_GPIOD_NO_CHIP;
            result->error_number = ENOENT;
            return NULL;
        }
        describe_chip(chip, result);
    }
    result->offset = gpiod_line_offset(line);

    *chip_out = chip;
    return line;
}

/* The request failed: record why (and who holds the line), close the chip. */
static void request_failed(struct gpiod_chip *chip, struct gpiod_line *line, CPinpostGPIODResult *result) {
    int error = errno;
    result->error_number = error;
    result->status = error == EBUSY ? CPINPOST_GPIOD_BUSY : CPINPOST_GPIOD_FAILED;
    gpiod_line_update(line);   /* refresh the line info so the consumer is current */
    copy_text(result->consumer, sizeof result->consumer, gpiod_line_consumer(line));
    gpiod_chip_close(chip);
}

static CPinpostGPIODLine *make_handle(struct gpiod_chip *chip, struct gpiod_line *line, int has_events,
                                      CPinpostGPIODResult *result) {
    CPinpostGPIODLine *handle = calloc(1, sizeof *handle);
    if (!handle) {
        gpiod_line_release(line);
        gpiod_chip_close(chip);
        result->status = CPINPOST_GPIOD_FAILED;
        result->error_number = ENOMEM;
        return NULL;
    }
    handle->chip = chip;
    handle->line = line;
    handle->has_events = has_events;
    result->status = CPINPOST_GPIOD_OK;
    return handle;
}

CPinpostGPIODLine *CPinpostGPIOD_request_input(const char *chip_descriptor, long offset, const char *line_name,
                                               int bias, int active_low, int edges,
                                               const char *consumer, CPinpostGPIODResult *result) {
    struct gpiod_chip *chip = NULL;
    struct gpiod_line *line = locate_line(chip_descriptor, offset, line_name, &chip, result);
    if (!line) return NULL;

    struct gpiod_line_request_config config;
    memset(&config, 0, sizeof config);
    config.consumer = consumer;
    switch (edges) {
    case CPINPOST_GPIOD_EDGE_RISING: config.request_type = GPIOD_LINE_REQUEST_EVENT_RISING_EDGE; break;
    case CPINPOST_GPIOD_EDGE_FALLING: config.request_type = GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE; break;
    case CPINPOST_GPIOD_EDGE_BOTH: config.request_type = GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES; break;
    default: config.request_type = GPIOD_LINE_REQUEST_DIRECTION_INPUT; break;
    }
    switch (bias) {
    case CPINPOST_GPIOD_BIAS_DISABLED: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    case CPINPOST_GPIOD_BIAS_PULL_UP: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case CPINPOST_GPIOD_BIAS_PULL_DOWN: config.flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    default: break;
    }
    if (active_low) config.flags |= GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW;

    if (gpiod_line_request(line, &config, 0) != 0) {
        request_failed(chip, line, result);
        return NULL;
    }
    return make_handle(chip, line, edges != CPINPOST_GPIOD_EDGE_NONE, result);
}

CPinpostGPIODLine *CPinpostGPIOD_request_output(const char *chip_descriptor, long offset, const char *line_name,
                                                int active_low, int initial_value, const char *consumer,
                                                CPinpostGPIODResult *result) {
    struct gpiod_chip *chip = NULL;
    struct gpiod_line *line = locate_line(chip_descriptor, offset, line_name, &chip, result);
    if (!line) return NULL;
    /* The logical initial value is driven from the request on, so the line never glitches through
       another level between being claimed and being set. */
    int flags = active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    if (gpiod_line_request_output_flags(line, consumer, flags, initial_value ? 1 : 0) != 0) {
        request_failed(chip, line, result);
        return NULL;
    }
    return make_handle(chip, line, 0, result);
}

int CPinpostGPIOD_set_value(CPinpostGPIODLine *line, int value) {
    return gpiod_line_set_value(line->line, value ? 1 : 0) == 0 ? 0 : -errno;
}

int CPinpostGPIOD_event_fd(CPinpostGPIODLine *line) {
    return line->has_events ? gpiod_line_event_get_fd(line->line) : -1;
}

int CPinpostGPIOD_get_value(CPinpostGPIODLine *line) {
    int value = gpiod_line_get_value(line->line);
    return value < 0 ? -errno : value;
}

int CPinpostGPIOD_read_events(CPinpostGPIODLine *line, int *rising, uint64_t *timestamp_ns, int capacity) {
    if (!line->has_events) return -EINVAL;
    struct gpiod_line_event events[16];
    if (capacity > 16) capacity = 16;
    int fd = gpiod_line_event_get_fd(line->line);
    int count;
    do {
        count = gpiod_line_event_read_fd_multiple(fd, events, (unsigned int)capacity);
    } while (count < 0 && errno == EINTR);
    if (count < 0) return errno == EAGAIN ? 0 : -errno;
    for (int i = 0; i < count; i++) {
        rising[i] = events[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
        timestamp_ns[i] = (uint64_t)events[i].ts.tv_sec * 1000000000ull + (uint64_t)events[i].ts.tv_nsec;
    }
    return count;
}

void CPinpostGPIOD_release(CPinpostGPIODLine *line) {
    if (!line) return;
    gpiod_line_release(line->line);
    gpiod_chip_close(line->chip);
    free(line);
}

#else
/* ------------------------------------------------------------------ libgpiod 2.x */

struct CPinpostGPIODLine {
    struct gpiod_chip *chip;
    struct gpiod_line_request *request;
    struct gpiod_edge_event_buffer *buffer;
    unsigned int offset;
    int has_events;
};

int CPinpostGPIOD_api_major(void) { return 2; }
const char *CPinpostGPIOD_version_string(void) { return gpiod_api_version(); }

static void describe_chip(struct gpiod_chip *chip, CPinpostGPIODResult *result) {
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (!info) return;
    copy_text(result->chip_name, sizeof result->chip_name, gpiod_chip_info_get_name(info));
    copy_text(result->chip_label, sizeof result->chip_label, gpiod_chip_info_get_label(info));
    gpiod_chip_info_free(info);
}

static int chip_has_label(struct gpiod_chip *chip, const char *label) {
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (!info) return 0;
    int same = strcmp(gpiod_chip_info_get_label(info), label) == 0;
    gpiod_chip_info_free(info);
    return same;
}

static size_t chip_num_lines(struct gpiod_chip *chip) {
    struct gpiod_chip_info *info = gpiod_chip_get_info(chip);
    if (!info) return 0;
    size_t count = gpiod_chip_info_get_num_lines(info);
    gpiod_chip_info_free(info);
    return count;
}

static struct gpiod_chip *open_chip(const char *descriptor) {
    if (descriptor[0] == '/') return gpiod_chip_open(descriptor);
    char path[128];
    snprintf(path, sizeof path, "/dev/%s", descriptor);
    if (strchr(descriptor, '/') == NULL && gpiod_is_gpiochip_device(path)) return gpiod_chip_open(path);
    char **paths;
    size_t count = list_chip_paths(&paths);
    struct gpiod_chip *found = NULL;
    for (size_t i = 0; i < count && !found; i++) {
        if (!gpiod_is_gpiochip_device(paths[i])) continue;
        struct gpiod_chip *chip = gpiod_chip_open(paths[i]);
        if (!chip) continue;
        if (chip_has_label(chip, descriptor)) found = chip;
        else gpiod_chip_close(chip);
    }
    free_paths(paths, count);
    if (!found) errno = ENOENT;
    return found;
}

static void fill_consumer(struct gpiod_chip *chip, unsigned int offset, CPinpostGPIODResult *result) {
    struct gpiod_line_info *info = gpiod_chip_get_line_info(chip, offset);
    if (!info) return;
    copy_text(result->consumer, sizeof result->consumer, gpiod_line_info_get_consumer(info));
    gpiod_line_info_free(info);
}

/*
 * Finds the line by chip (name, path or label) and offset, or by name (on one chip or across all).
 * Returns the open chip (and *offset_out) or NULL with result saying why and nothing left open.
 */
static struct gpiod_chip *locate_line(const char *chip_descriptor, long offset, const char *line_name,
                                      unsigned int *offset_out, CPinpostGPIODResult *result) {
    memset(result, 0, sizeof *result);
    struct gpiod_chip *chip = NULL;
    long found_offset = -1;

    if (chip_descriptor) {
        chip = open_chip(chip_descriptor);
        if (!chip) {
            result->status = CPINPOST_GPIOD_NO_CHIP;
            result->error_number = errno;
            return NULL;
        }
        describe_chip(chip, result);
        if (offset >= 0) {
            if ((size_t)offset >= chip_num_lines(chip)) {
                result->status = CPINPOST_GPIOD_NO_LINE;
                result->offset = (unsigned int)offset;
                gpiod_chip_close(chip);
                return NULL;
            }
            found_offset = offset;
        } else {
            found_offset = gpiod_chip_get_line_offset_from_name(chip, line_name);
            if (found_offset < 0) {
                result->status = CPINPOST_GPIOD_NO_LINE;
                result->error_number = errno;
                gpiod_chip_close(chip);
                return NULL;
            }
        }
    } else {
        char **paths;
        size_t count = list_chip_paths(&paths);
        for (size_t i = 0; i < count && found_offset < 0; i++) {
            if (!gpiod_is_gpiochip_device(paths[i])) continue;
            struct gpiod_chip *candidate = gpiod_chip_open(paths[i]);
            if (!candidate) continue;
            found_offset = gpiod_chip_get_line_offset_from_name(candidate, line_name);
            if (found_offset >= 0) chip = candidate;
            else gpiod_chip_close(candidate);
        }
        free_paths(paths, count);
        if (found_offset < 0) {
            result->status = count ? CPINPOST_GPIOD_NO_LINE : CPINPOST_GPIOD_NO_CHIP;
            result->error_number = ENOENT;
            return NULL;
        }
        describe_chip(chip, result);
    }
    *offset_out = (unsigned int)found_offset;
    result->offset = (unsigned int)found_offset;
    return chip;
}

/* Requests one line with `settings` (freed here); NULL with result filled when refused. */
static struct gpiod_line_request *request_line(struct gpiod_chip *chip, unsigned int line_offset,
                                               struct gpiod_line_settings *settings, const char *consumer,
                                               CPinpostGPIODResult *result) {
    struct gpiod_line_config *line_config = gpiod_line_config_new();
    struct gpiod_request_config *request_config = gpiod_request_config_new();
    struct gpiod_line_request *request = NULL;
    if (settings && line_config && request_config) {
        if (gpiod_line_config_add_line_settings(line_config, &line_offset, 1, settings) == 0) {
            gpiod_request_config_set_consumer(request_config, consumer);
            request = gpiod_chip_request_lines(chip, request_config, line_config);
        }
    } else {
        errno = ENOMEM;
    }
    int error = errno;
    gpiod_line_settings_free(settings);
    gpiod_line_config_free(line_config);
    gpiod_request_config_free(request_config);
    if (!request) {
        result->error_number = error;
        result->status = error == EBUSY ? CPINPOST_GPIOD_BUSY : CPINPOST_GPIOD_FAILED;
        fill_consumer(chip, line_offset, result);
    }
    return request;
}

static CPinpostGPIODLine *make_handle(struct gpiod_chip *chip, struct gpiod_line_request *request,
                                      unsigned int line_offset, int has_events, CPinpostGPIODResult *result) {
    CPinpostGPIODLine *handle = calloc(1, sizeof *handle);
    struct gpiod_edge_event_buffer *buffer = has_events ? gpiod_edge_event_buffer_new(16) : NULL;
    if (!handle || (has_events && !buffer)) {
        free(handle);
        gpiod_edge_event_buffer_free(buffer);
        gpiod_line_request_release(request);
        gpiod_chip_close(chip);
        result->status = CPINPOST_GPIOD_FAILED;
        result->error_number = ENOMEM;
        return NULL;
    }
    handle->chip = chip;
    handle->request = request;
    handle->buffer = buffer;
    handle->offset = line_offset;
    handle->has_events = has_events;
    result->status = CPINPOST_GPIOD_OK;
    return handle;
}

CPinpostGPIODLine *CPinpostGPIOD_request_input(const char *chip_descriptor, long offset, const char *line_name,
                                               int bias, int active_low, int edges,
                                               const char *consumer, CPinpostGPIODResult *result) {
    unsigned int line_offset = 0;
    struct gpiod_chip *chip = locate_line(chip_descriptor, offset, line_name, &line_offset, result);
    if (!chip) return NULL;

    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings) {
        gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
        switch (bias) {
        case CPINPOST_GPIOD_BIAS_DISABLED: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_DISABLED); break;
        case CPINPOST_GPIOD_BIAS_PULL_UP: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_PULL_UP); break;
        case CPINPOST_GPIOD_BIAS_PULL_DOWN: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_PULL_DOWN); break;
        default: gpiod_line_settings_set_bias(settings, GPIOD_LINE_BIAS_AS_IS); break;
        }
        gpiod_line_settings_set_active_low(settings, active_low != 0);
        switch (edges) {
        case CPINPOST_GPIOD_EDGE_RISING: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_RISING); break;
        case CPINPOST_GPIOD_EDGE_FALLING: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_FALLING); break;
        case CPINPOST_GPIOD_EDGE_BOTH: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH); break;
        default: gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_NONE); break;
        }
        gpiod_line_settings_set_event_clock(settings, GPIOD_LINE_CLOCK_MONOTONIC);
    }
    struct gpiod_line_request *request = request_line(chip, line_offset, settings, consumer, result);
    if (!request) {
        gpiod_chip_close(chip);
        return NULL;
    }
    return make_handle(chip, request, line_offset, edges != CPINPOST_GPIOD_EDGE_NONE, result);
}

CPinpostGPIODLine *CPinpostGPIOD_request_output(const char *chip_descriptor, long offset, const char *line_name,
                                                int active_low, int initial_value, const char *consumer,
                                                CPinpostGPIODResult *result) {
    unsigned int line_offset = 0;
    struct gpiod_chip *chip = locate_line(chip_descriptor, offset, line_name, &line_offset, result);
    if (!chip) return NULL;

    struct gpiod_line_settings *settings = gpiod_line_settings_new();
    if (settings) {
        gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
        gpiod_line_settings_set_active_low(settings, active_low != 0);
        /* Driven at the logical initial value from the request on: no glitch through another level. */
        gpiod_line_settings_set_output_value(
            settings, initial_value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
    }
    struct gpiod_line_request *request = request_line(chip, line_offset, settings, consumer, result);
    if (!request) {
        gpiod_chip_close(chip);
        return NULL;
    }
    return make_handle(chip, request, line_offset, 0, result);
}

int CPinpostGPIOD_set_value(CPinpostGPIODLine *line, int value) {
    enum gpiod_line_value level = value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE;
    return gpiod_line_request_set_value(line->request, line->offset, level) == 0 ? 0 : -errno;
}

int CPinpostGPIOD_event_fd(CPinpostGPIODLine *line) {
    return line->has_events ? gpiod_line_request_get_fd(line->request) : -1;
}

int CPinpostGPIOD_get_value(CPinpostGPIODLine *line) {
    enum gpiod_line_value value = gpiod_line_request_get_value(line->request, line->offset);
    if (value == GPIOD_LINE_VALUE_ERROR) return -errno;
    return value == GPIOD_LINE_VALUE_ACTIVE ? 1 : 0;
}

int CPinpostGPIOD_read_events(CPinpostGPIODLine *line, int *rising, uint64_t *timestamp_ns, int capacity) {
    if (!line->has_events) return -EINVAL;
    if (capacity > 16) capacity = 16;
    int count;
    do {
        count = gpiod_line_request_read_edge_events(line->request, line->buffer, (size_t)capacity);
    } while (count < 0 && errno == EINTR);
    if (count < 0) return errno == EAGAIN ? 0 : -errno;
    for (int i = 0; i < count; i++) {
        struct gpiod_edge_event *event = gpiod_edge_event_buffer_get_event(line->buffer, (unsigned long)i);
        rising[i] = gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE;
        timestamp_ns[i] = gpiod_edge_event_get_timestamp_ns(event);
    }
    return count;
}

void CPinpostGPIOD_release(CPinpostGPIODLine *line) {
    if (!line) return;
    gpiod_line_request_release(line->request);
    gpiod_edge_event_buffer_free(line->buffer);
    gpiod_chip_close(line->chip);
    free(line);
}
#endif
