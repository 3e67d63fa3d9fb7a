// CRC-32C with the CPU's own instruction where there is one. The portable
// table-driven version lives in Swift (CIBridgeOutbox/Storage/CRC32C.swift).
#include "cibridge_crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

int cibridge_crc32c_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t cibridge_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    const unsigned char *bytes = data;
    uint64_t value = ~crc;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        value = __builtin_ia32_crc32di(value, word);
        bytes += 8;
        length -= 8;
    }
    uint32_t small = (uint32_t)value;
    while (length > 0) {
        small = __builtin_ia32_crc32qi(small, *bytes);
        bytes += 1;
        length -= 1;
    }
    return ~small;
}
#else
int cibridge_crc32c_hardware_available(void) { return 0; }

uint32_t cibridge_crc32c_hardware(uint32_t crc, const void *data, size_t length) {
    (void)data;
    (void)length;
    return crc;
}
#endif
