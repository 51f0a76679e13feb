/* The gates in the browser, the twin of survey_renderer/gate.py (the page tests hold the two to
   the same answers): on if fully on, or the actor is listed, or the actor's bucket of 100000 is
   below the percentage, bucketed as the engine the team runs (the policy's `bucketing`):
   - flipper: crc32(flag name + actor id) % 100000 < percentage * 1000, with CRC-32 as zlib
     computes it over the UTF-8 bytes;
   - flagd: floor(murmur3_32(CBOR [flag name, actor id]) * 100000 / 2^32) < the snapshot's
     flagd_weight (the percentage in whole buckets, rounded as the flagd export rounds it), as
     flagd's `fractional` (validator/engines/murmur.py). */
var flagopsGate = (function () {
  "use strict";
  var SCALE = 1000;
  var BUCKETS = 100 * SCALE;
  var TABLE = (function () {
    var table = new Uint32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) {
        c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(text) {
    var bytes = new TextEncoder().encode(text);
    var crc = 0xffffffff;
    for (var i = 0; i < bytes.length; i++) {
      crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    }
    return (crc ^ 0xffffffff) >>> 0;
  }

  function rotl(value, count) {
    return (value << count) | (value >>> (32 - count));
  }

  function mixBlock(block) {
    return Math.imul(rotl(Math.imul(block, 0xcc9e2d51), 15), 0x1b873593);
  }

  /* MurmurHash3 x86 32-bit, seed 0, unsigned: mmh3.hash(bytes, 0, signed=False). */
  function murmur3(bytes) {
    var value = 0;
    var whole = bytes.length - (bytes.length % 4);
    for (var i = 0; i < whole; i += 4) {
      var block = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
      value = (Math.imul(rotl(value ^ mixBlock(block), 13), 5) + 0xe6546b64) | 0;
    }
    var tail = 0;
    for (var j = bytes.length - 1; j >= whole; j--) {
      tail = (tail << 8) | bytes[j];
    }
    if (bytes.length > whole) value ^= mixBlock(tail);
    value ^= bytes.length;
    value ^= value >>> 16;
    value = Math.imul(value, 0x85ebca6b);
    value ^= value >>> 13;
    value = Math.imul(value, 0xc2b2ae35);
    return (value ^ (value >>> 16)) >>> 0;
  }

  /* The shortest CBOR head of a text string (major type 3) of this many bytes. */
  function textHead(length) {
    if (length < 24) return [0x60 | length];
    if (length < 0x100) return [0x78, length];
    if (length < 0x10000) return [0x79, length >>> 8, length & 0xff];
    return [0x7a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
  }

  /* Canonical CBOR of the array [flag key, targeting key]. */
  function cborPair(first, second) {
    var out = [0x82];
    [first, second].forEach(function (text) {
      var bytes = new TextEncoder().encode(text);
      out = out.concat(textHead(bytes.length), Array.prototype.slice.call(bytes));
    });
    return new Uint8Array(out);
  }

  function flagdBucket(flagKey, targetingKey) {
    return Math.floor(murmur3(cborPair(flagKey, targetingKey)) * BUCKETS / 4294967296);
  }

  function inShare(flag, actor, share) {
    if (flag.bucketing === "flagd") {
      return flagdBucket(flag.name, actor) < flag.flagd_weight;
    }
    return crc32(flag.name + actor) % BUCKETS < share * SCALE;
  }

  function evaluate(flag, actor) {
    if (flag.boolean) return true;
    if (actor === null) return false;
    if (flag.actors.indexOf(actor) !== -1) return true;
    var share = flag.percentage_of_actors;
    return share !== null && inShare(flag, actor, share);
  }

  return { crc32: crc32, murmur3: murmur3, flagdBucket: flagdBucket, evaluate: evaluate };
})();
