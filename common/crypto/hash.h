/* hash — the one non-cryptographic hash of erpsync (FNV-1a), for spreading keys over lanes and
 * naming things by a short stable digest. Never for anything an attacker must not forge. */
#ifndef ERPSYNC_HASH_H
#define ERPSYNC_HASH_H

#include <stddef.h>
#include <stdint.h>

uint32_t hash_fnv1a32(const void *data, size_t len);
uint64_t hash_fnv1a64(const void *data, size_t len);

#endif
