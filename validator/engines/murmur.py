"""flagd's fractional hash in plain Python: no C extension, no network, same numbers.

Held to the real `mmh3` and `cbor2` (the provider's own dependencies) by tests/test_engines.py.
"""

from __future__ import annotations

_C1, _C2, _MASK = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF


def _rotl(value: int, count: int) -> int:
    return ((value << count) | (value >> (32 - count))) & _MASK


def _mix_block(block: int) -> int:
    return (_rotl((block * _C1) & _MASK, 15) * _C2) & _MASK


def _finalize(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK
    return value ^ (value >> 16)


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, unsigned: `mmh3.hash(data, seed, signed=False)`."""
    value = seed & _MASK
    whole = len(data) - len(data) % 4
    for start in range(0, whole, 4):
        value ^= _mix_block(int.from_bytes(data[start:start + 4], "little"))
        value = (_rotl(value, 13) * 5 + 0xE6546B64) & _MASK
    tail = data[whole:]
    if tail:
        value ^= _mix_block(int.from_bytes(tail, "little"))
    return _finalize(value ^ len(data))


def _cbor_head(major: int, length: int) -> bytes:
    """A CBOR item head in its shortest form, as canonical encoding requires."""
    kind = major << 5
    if length < 24:
        return bytes([kind | length])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([kind | extra]) + length.to_bytes(size, "big")
    raise ValueError("CBOR length too large")


def cbor_text_array(items: tuple[str, ...]) -> bytes:
    """Canonical CBOR of an array of text strings: `cbor2.dumps(list(items), canonical=True)`."""
    out = bytearray(_cbor_head(4, len(items)))
    for item in items:
        encoded = item.encode("utf-8")
        out += _cbor_head(3, len(encoded)) + encoded
    return bytes(out)


def flagd_bucket(flag_key: str, targeting_key: str, buckets: int) -> int:
    """flagd's bucket for this targeting key: `(murmur3(cbor([flag, key])) * buckets) >> 32`."""
    return (murmur3_32(cbor_text_array((flag_key, targeting_key))) * buckets) >> 32
