#ifndef CPINPOSTHEAPPOLICY_H
#define CPINPOSTHEAPPOLICY_H
// The agent's malloc policy, set before main() so that it holds for every thread.
//
// glibc gives each new thread that contends for the heap an arena of its own (up to 8 per core), and each
// arena keeps the free memory it has once grown. libdispatch adds and retires worker threads as the load
// moves, so over an hour the agent's anonymous memory rose in steps as threads met new arenas (hour-long
// soak: +8.9 % after warm-up, five arenas besides the main heap). The agent allocates little and mostly on
// one event-loop thread; one arena keeps its memory in one place, trimmed from one top. Per-thread caches
// (tcache) still serve small blocks without the arena lock.
//
// Only the `pinpost` executable links this target: a library must not change its host's allocator.

/// The arena limit the constructor set (mallopt M_ARENA_MAX), or 0 when mallopt refused it.
int CPinpostHeapPolicy_arena_limit(void);

/// The number of malloc arenas this process has now (from malloc_info), or -1 when it cannot be read.
int CPinpostHeapPolicy_arena_count(void);

#endif
