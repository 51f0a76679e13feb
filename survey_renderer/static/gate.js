/* Flipper's gates in the browser, the twin of survey_renderer/gate.py (the page tests hold the two
   to the same answers): on if fully on, or the actor is listed, or
   crc32(flag name + actor id) % 100000 < percentage * 1000, with CRC-32 as zlib computes it over
   the UTF-8 bytes. */
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

  function evaluate(flag, actor) {
    if (flag.boolean) return true;
    if (actor === null) return false;
    if (flag.actors.indexOf(actor) !== -1) return true;
    var share = flag.percentage_of_actors;
    return share !== null && crc32(flag.name + actor) % BUCKETS < share * SCALE;
  }

  return { crc32: crc32, evaluate: evaluate };
})();
