;; XBZRLE encoder with 128-bit SIMD, written by hand for migscope (src/xbzrle/encode_wasm.ts).
;; Compiled by `deno run -A --no-lock tools/xbzrle_wasm.ts` into src/xbzrle/encode_wasm_bytes.ts.
;;
;; encode(old, new, out, len, limit): both pages (len bytes) are at the given offsets in this
;; module's memory; the delta is written at `out`. Returns the delta's length, 0 when the pages
;; are equal, -1 on overflow — the decisions of src/xbzrle/encode.ts's JS encoders:
;;   - before each zero run:  overflow when d + 2 > limit;
;;   - an unchanged page gives 0; the trailing unchanged run is not written;
;;   - a run longer than 0x3FFF (small ULEB128 maximum) gives overflow;
;;   - before each data run:  overflow when d + 2 > limit, after its length is known when
;;     d + (1 or 2) + run > limit.
;; The caller leaves 32 bytes of scratch after `out + limit` (data runs are copied 16 bytes at a
;; time) and readable memory up to 16 bytes past the new page; `limit` is at least -1.
;;
;; Scanning: unchanged runs skip 64 bytes per step while all are equal; otherwise 16 bytes are
;; compared at once into a 16-bit mask (bit k set: byte k equal), and the run ends at the first
;; clear (unchanged run) or set (changed run) bit. The mask is kept, so the short runs inside
;; the same 16 bytes are found by shifting it, without loading and comparing again.
(module
  (memory (export "memory") 1)

  (func (export "encode")
    (param $o i32) (param $n i32) (param $out i32) (param $len i32) (param $limit i32)
    (result i32)
    (local $i i32) (local $d i32) (local $start i32) (local $run i32) (local $m i32)
    (local $k i32) (local $end64 i32) (local $end16 i32) (local $base i32) (local $mask i32)
    ;; $mask: the equal-byte bitmask of the 16 bytes at $base (from the last 16-byte compare);
    ;; runs inside it are found by shifting, without comparing again.
    (local.set $base (i32.const -64))
    ;; Vector loops run while i <= end (signed: negative for pages under 64 / 16 bytes).
    (local.set $end64 (i32.sub (local.get $len) (i32.const 64)))
    (local.set $end16 (i32.sub (local.get $len) (i32.const 16)))
    (block $finished
      (loop $pair
        (br_if $finished (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.gt_s (i32.add (local.get $d) (i32.const 2)) (local.get $limit))
          (then (return (i32.const -1))))

        ;; ---- unchanged run from i
        (local.set $start (local.get $i))
        (block $zfound
          ;; The rest of the last compared 16 bytes.
          (if (i32.lt_u (i32.sub (local.get $i) (local.get $base)) (i32.const 16))
            (then
              (local.set $m
                (i32.shr_u (i32.xor (local.get $mask) (i32.const 0xffff))
                  (i32.sub (local.get $i) (local.get $base))))
              (if (local.get $m)
                (then
                  (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                  (br $zfound)))
              (local.set $i (i32.add (local.get $base) (i32.const 16)))))
          ;; 64 bytes per step while all equal.
          (block $zslow
            (loop $z64
              (br_if $zslow (i32.gt_s (local.get $i) (local.get $end64)))
              (br_if $zslow
                (v128.any_true
                  (v128.or
                    (v128.or
                      (v128.xor
                        (v128.load (i32.add (local.get $o) (local.get $i)))
                        (v128.load (i32.add (local.get $n) (local.get $i))))
                      (v128.xor
                        (v128.load offset=16 (i32.add (local.get $o) (local.get $i)))
                        (v128.load offset=16 (i32.add (local.get $n) (local.get $i)))))
                    (v128.or
                      (v128.xor
                        (v128.load offset=32 (i32.add (local.get $o) (local.get $i)))
                        (v128.load offset=32 (i32.add (local.get $n) (local.get $i))))
                      (v128.xor
                        (v128.load offset=48 (i32.add (local.get $o) (local.get $i)))
                        (v128.load offset=48 (i32.add (local.get $n) (local.get $i))))))))
              (local.set $i (i32.add (local.get $i) (i32.const 64)))
              (br $z64)))
          ;; 16 bytes per step; the first unequal byte is the lowest clear bit of the mask.
          (block $zbytes
            (loop $z16
              (br_if $zbytes (i32.gt_s (local.get $i) (local.get $end16)))
              (local.set $base (local.get $i))
              (local.set $mask
                (i8x16.bitmask
                  (i8x16.eq
                    (v128.load (i32.add (local.get $o) (local.get $i)))
                    (v128.load (i32.add (local.get $n) (local.get $i))))))
              (local.set $m (i32.xor (local.get $mask) (i32.const 0xffff)))
              (if (local.get $m)
                (then
                  (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                  (br $zfound)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $z16)))
          ;; The last bytes one at a time.
          (loop $z1
            (br_if $zfound (i32.ge_u (local.get $i) (local.get $len)))
            (br_if $zfound
              (i32.ne
                (i32.load8_u (i32.add (local.get $o) (local.get $i)))
                (i32.load8_u (i32.add (local.get $n) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $z1)))
        (local.set $run (i32.sub (local.get $i) (local.get $start)))
        (if (i32.eq (local.get $run) (local.get $len)) (then (return (i32.const 0))))
        (if (i32.eq (local.get $i) (local.get $len)) (then (return (local.get $d))))
        (if (i32.gt_u (local.get $run) (i32.const 0x3fff)) (then (return (i32.const -1))))
        (if (i32.lt_u (local.get $run) (i32.const 0x80))
          (then
            (i32.store8 (i32.add (local.get $out) (local.get $d)) (local.get $run))
            (local.set $d (i32.add (local.get $d) (i32.const 1))))
          (else
            (i32.store8 (i32.add (local.get $out) (local.get $d))
              (i32.or (i32.and (local.get $run) (i32.const 0x7f)) (i32.const 0x80)))
            (i32.store8 offset=1 (i32.add (local.get $out) (local.get $d))
              (i32.shr_u (local.get $run) (i32.const 7)))
            (local.set $d (i32.add (local.get $d) (i32.const 2)))))
        (if (i32.gt_s (i32.add (local.get $d) (i32.const 2)) (local.get $limit))
          (then (return (i32.const -1))))

        ;; ---- changed run from i (byte i is known to differ)
        (local.set $start (local.get $i))
        (block $nzfound
          ;; The rest of the last compared 16 bytes (bit 0, byte i, is clear).
          (if (i32.lt_u (i32.sub (local.get $i) (local.get $base)) (i32.const 16))
            (then
              (local.set $m
                (i32.shr_u (local.get $mask) (i32.sub (local.get $i) (local.get $base))))
              (if (local.get $m)
                (then
                  (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                  (br $nzfound)))
              (local.set $i (i32.add (local.get $base) (i32.const 16))))
            (else (local.set $i (i32.add (local.get $i) (i32.const 1)))))
          ;; 16 bytes per step; the first equal byte is the lowest set bit of the mask.
          (block $nzbytes
            (loop $nz16
              (br_if $nzbytes (i32.gt_s (local.get $i) (local.get $end16)))
              (local.set $base (local.get $i))
              (local.set $mask
                (i8x16.bitmask
                  (i8x16.eq
                    (v128.load (i32.add (local.get $o) (local.get $i)))
                    (v128.load (i32.add (local.get $n) (local.get $i))))))
              (local.set $m (local.get $mask))
              (if (local.get $m)
                (then
                  (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
                  (br $nzfound)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $nz16)))
          (loop $nz1
            (br_if $nzfound (i32.ge_u (local.get $i) (local.get $len)))
            (br_if $nzfound
              (i32.eq
                (i32.load8_u (i32.add (local.get $o) (local.get $i)))
                (i32.load8_u (i32.add (local.get $n) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $nz1)))
        (local.set $run (i32.sub (local.get $i) (local.get $start)))
        (if (i32.gt_u (local.get $run) (i32.const 0x3fff)) (then (return (i32.const -1))))
        (if (i32.lt_u (local.get $run) (i32.const 0x80))
          (then
            (if (i32.gt_s (i32.add (i32.add (local.get $d) (i32.const 1)) (local.get $run))
                  (local.get $limit))
              (then (return (i32.const -1))))
            (i32.store8 (i32.add (local.get $out) (local.get $d)) (local.get $run))
            (local.set $d (i32.add (local.get $d) (i32.const 1))))
          (else
            (if (i32.gt_s (i32.add (i32.add (local.get $d) (i32.const 2)) (local.get $run))
                  (local.get $limit))
              (then (return (i32.const -1))))
            (i32.store8 (i32.add (local.get $out) (local.get $d))
              (i32.or (i32.and (local.get $run) (i32.const 0x7f)) (i32.const 0x80)))
            (i32.store8 offset=1 (i32.add (local.get $out) (local.get $d))
              (i32.shr_u (local.get $run) (i32.const 7)))
            (local.set $d (i32.add (local.get $d) (i32.const 2)))))
        ;; The run's bytes: 16 at a time up to 128 (writing up to 15 bytes of scratch past the
        ;; run), memory.copy beyond.
        (if (i32.le_u (local.get $run) (i32.const 128))
          (then
            (local.set $k (i32.const 0))
            (loop $copy
              (v128.store
                (i32.add (i32.add (local.get $out) (local.get $d)) (local.get $k))
                (v128.load (i32.add (i32.add (local.get $n) (local.get $start)) (local.get $k))))
              (local.set $k (i32.add (local.get $k) (i32.const 16)))
              (br_if $copy (i32.lt_u (local.get $k) (local.get $run)))))
          (else
            (memory.copy
              (i32.add (local.get $out) (local.get $d))
              (i32.add (local.get $n) (local.get $start))
              (local.get $run))))
        (local.set $d (i32.add (local.get $d) (local.get $run)))
        (br $pair)))
    (local.get $d))
)
