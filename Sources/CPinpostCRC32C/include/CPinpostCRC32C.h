#ifndef CPINPOSTCRC32C_H
#define CPINPOSTCRC32C_H
// CRC-32C with the CPU's own instruction where it has one: SSE 4.2 `crc32` on x86-64, the ARMv8 CRC
// extension (`crc32c*`, present on the Raspberry Pi 3, 4 and 5) on arm64. The spool checksums every
// record twice (append and read); in software that was a tenth of the agent's CPU with 1 KiB readings.
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction (checked once at run time), else 0.
int CPinpostCRC32C_hardware_available(void);

/// Continues a CRC-32C over `length` bytes: `crc` is the running value before the final inversion
/// (start with 0xFFFFFFFF; the checksum is the result XOR 0xFFFFFFFF). Only call when
/// `CPinpostCRC32C_hardware_available()` returned 1.
uint32_t CPinpostCRC32C_hardware_update(uint32_t crc, const void *bytes, size_t length);

#endif
