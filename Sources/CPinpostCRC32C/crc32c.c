#include "CPinpostCRC32C.h"

#include <string.h>

// One loop for both instruction sets; each architecture names its 8-byte and 1-byte steps, its run-time check
// and the target attribute that lets the compiler emit them in this function only.
#if defined(__x86_64__)

#include <cpuid.h>
#define CRC32C_TARGET __attribute__((target("sse4.2")))
#define CRC32C_STEP64(crc, word) ((uint32_t)__builtin_ia32_crc32di((crc), (word)))
#define CRC32C_STEP8(crc, byte) __builtin_ia32_crc32qi((crc), (byte))

int CPinpostCRC32C_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) ? 1 : 0;
}

#elif defined(__aarch64__)

#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#define CRC32C_TARGET __attribute__((target("crc")))
#define CRC32C_STEP64(crc, word) __crc32cd((crc), (word))
#define CRC32C_STEP8(crc, byte) __crc32cb((crc), (byte))

int CPinpostCRC32C_hardware_available(void) {
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) ? 1 : 0;
}

#endif

#if defined(CRC32C_STEP64)

CRC32C_TARGET
uint32_t CPinpostCRC32C_hardware_update(uint32_t crc, const void *bytes, size_t length) {
    const unsigned char *p = bytes;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = CRC32C_STEP64(crc, word);
        p += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = CRC32C_STEP8(crc, *p);
        p++;
        length--;
    }
    return crc;
}

#else

int CPinpostCRC32C_hardware_available(void) { return 0; }

uint32_t CPinpostCRC32C_hardware_update(uint32_t crc, const void *bytes, size_t length) {
    (void)bytes;
    (void)length;
    return crc;
}

#endif
