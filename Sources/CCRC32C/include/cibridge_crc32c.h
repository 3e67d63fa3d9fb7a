#ifndef CIBRIDGE_CRC32C_H
#define CIBRIDGE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has a CRC-32C instruction this library uses (x86-64 SSE 4.2).
int cibridge_crc32c_hardware_available(void);

/// CRC-32C of `length` bytes at `data`, continuing from `crc` (0 to start),
/// with the CPU's CRC instruction. Only call when hardware is available.
uint32_t cibridge_crc32c_hardware(uint32_t crc, const void *data, size_t length);

#endif
