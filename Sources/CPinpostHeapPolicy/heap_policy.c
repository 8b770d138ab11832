#include "CPinpostHeapPolicy.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int arena_limit = 0;

// Runs before main() and before the Swift runtime or libdispatch start a thread. GLIBC_TUNABLES
// (glibc.malloc.arena_max) set by an operator is overridden: the soak that justified the value ran with it.
__attribute__((constructor)) static void CPinpostHeapPolicy_apply(void) {
    if (mallopt(M_ARENA_MAX, 1) == 1) {
        arena_limit = 1;
    }
}

int CPinpostHeapPolicy_arena_limit(void) {
    return arena_limit;
}

int CPinpostHeapPolicy_arena_count(void) {
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (stream == NULL) {
        return -1;
    }
    int failed = malloc_info(0, stream);
    if (fclose(stream) != 0 || failed != 0 || text == NULL) {
        free(text);
        return -1;
    }
    int count = 0;
    for (const char *at = text; (at = strstr(at, "<heap nr=")) != NULL; at += 9) {
        count += 1;
    }
    free(text);
    return count;
}
