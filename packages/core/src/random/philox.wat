;; The log, sin and cos routines below are a translation of V8's src/base/ieee754.cc, which
;; carries these notices (V8's BSD licence: https://github.com/v8/v8/blob/main/LICENSE):
;;   Copyright 2016 the V8 project authors. All rights reserved. Use of this source code is
;;   governed by a BSD-style license that can be found in the LICENSE file.
;;   The following is adapted from fdlibm (http://www.netlib.org/fdlibm).
;;   ====================================================
;;   Copyright (C) 1993-2004 by Sun Microsystems, Inc. All rights reserved.
;;
;;   Developed at SunSoft, a Sun Microsystems, Inc. business.
;;   Permission to use, copy, modify, and distribute this
;;   software is freely granted, provided that this notice
;;   is preserved.
;;   ====================================================
;;
;; Philox4x32-10 blocks and Box–Muller normals for SeededRng (see philox-wasm.ts). Uses the
;; SIMD proposal (v128; every current engine has it): where it is missing the module does not
;; compile and SeededRng takes its JS path.
;;
;; Memory (4 pages): [0, 64 KiB) the words of `blocks` / `normals` (4096 blocks at most);
;; [64 KiB, 192 KiB) the normals of `normals` (float64, or float32 in the first half), or the
;; results of `testKernels`; 196608 a scratch pair (2 words, then 2 float64 values at 196616) for
;; `boxMuller`; 196640 the table npio2_hw of __ieee754_rem_pio2 (32 int32 words).
;;
;; Box–Muller must give bit for bit the values of the JS loop it replaces,
;;   r = Math.sqrt(-2 * Math.log((w0 + 0.5) / 2^32)), θ = 2 * Math.PI * ((w1 + 0.5) / 2^32),
;;   r * Math.cos(θ), r * Math.sin(θ),
;; as Node 20 computes them: V8 11.3 evaluates Math.log, Math.sin and Math.cos with its port of
;; fdlibm (deps/v8/src/base/ieee754.cc: log, sin, cos, __kernel_sin, __kernel_cos,
;; __ieee754_rem_pio2), compiled without FMA contraction, and Math.sqrt like f64.sqrt is correctly
;; rounded. $log, $kernel_sin, $kernel_cos, $rem_pio2 and $sincos below are that C code operation
;; for operation (the comments quote the C lines), so every rounding happens where it happens there.
;; Dividing by 2^32 is multiplying by 2^-32 (exact either way: (w + 0.5) has at most 33 bits).
;; The bulk (`normals`) runs the same operations two lanes at a time ($log2, $sincos2, see there)
;; and Philox four blocks at a time ($blocksSimd); the scalar functions serve single pairs
;; (`boxMuller`) and the rare lanes the two-lane code hands back. The tests compare both with
;; Math.* on edge and random inputs; scripts/verify-box-muller.mjs on all 2^32 words.
;;
;; Range: $log is fdlibm's log for every input. $sincos has fdlibm's two reductions that need no
;; table of 2/π digits (|x| < 3π/4, and the "medium" range: high word <= 0x413921FB, i.e.
;; |x| < 1647100, about 2^20·π/2, though fdlibm's comment says 2^19·π/2); it omits
;; __kernel_rem_pio2 and returns NaN beyond, up to ∞. Box–Muller's θ lies in (0, 2π).
;;
;; fdlibm's constants, written below digit for digit as in ieee754.cc (the test reads this table
;; and checks each decimal against its IEEE-754 words):
;;   invpio2  6.36619772367581382433e-01   0x3FE45F30, 0x6DC9C883
;;   pio2_1   1.57079632673412561417e+00   0x3FF921FB, 0x54400000
;;   pio2_1t  6.07710050650619224932e-11   0x3DD0B461, 0x1A626331
;;   pio2_2   6.07710050630396597660e-11   0x3DD0B461, 0x1A600000
;;   pio2_2t  2.02226624879595063154e-21   0x3BA3198A, 0x2E037073
;;   pio2_3   2.02226624871116645580e-21   0x3BA3198A, 0x2E000000
;;   pio2_3t  8.47842766036889956997e-32   0x397B839A, 0x252049C1
;;   C1       4.16666666666666019037e-02   0x3FA55555, 0x5555554C
;;   C2      -1.38888888888741095749e-03   0xBF56C16C, 0x16C15177
;;   C3       2.48015872894767294178e-05   0x3EFA01A0, 0x19CB1590
;;   C4      -2.75573143513906633035e-07   0xBE927E4F, 0x809C52AD
;;   C5       2.08757232129817482790e-09   0x3E21EE9E, 0xBDB4B1C4
;;   C6      -1.13596475577881948265e-11   0xBDA8FAE9, 0xBE8838D4
;;   S1      -1.66666666666666324348e-01   0xBFC55555, 0x55555549
;;   S2       8.33333333332248946124e-03   0x3F811111, 0x1110F8A6
;;   S3      -1.98412698298579493134e-04   0xBF2A01A0, 0x19C161D5
;;   S4       2.75573137070700676789e-06   0x3EC71DE3, 0x57B1FE7D
;;   S5      -2.50507602534068634195e-08   0xBE5AE5E6, 0x8A2B9CEB
;;   S6       1.58969099521155010221e-10   0x3DE5D93A, 0x5ACFD57C
;;   ln2_hi   6.93147180369123816490e-01   0x3FE62E42, 0xFEE00000
;;   ln2_lo   1.90821492927058770002e-10   0x3DEA39EF, 0x35793C76
;;   two54    1.80143985094819840000e+16   0x43500000, 0x00000000
;;   Lg1      6.666666666666735130e-01     0x3FE55555, 0x55555593
;;   Lg2      3.999999999940941908e-01     0x3FD99999, 0x9997FA04
;;   Lg3      2.857142874366239149e-01     0x3FD24924, 0x94229359
;;   Lg4      2.222219843214978396e-01     0x3FCC71C5, 0x1D8E78AF
;;   Lg5      1.818357216161805012e-01     0x3FC74664, 0x96CB03DE
;;   Lg6      1.531383769920937332e-01     0x3FC39A09, 0xD078C69F
;;   Lg7      1.479819860511658591e-01     0x3FC2F112, 0xDF3E5244
;;   third    0.33333333333333333          0x3FD55555, 0x55555555   (log's 0.33333333333333333)
;;   twoPi    0x1.921fb54442d18p+2         0x401921FB, 0x54442D18   (JS 2 * Math.PI)
;; Other literals are exact: 0, 0.5, 1, 2, -2, 0.28125, 2^-32, 2^52, ±∞, NaN.
(module
  (memory (export "memory") 4)
  ;; static const int32_t npio2_hw[] (high words of n·π/2, n = 1..32), little-endian.
  (data (i32.const 196640)
    "\fb\21\f9\3f\fb\21\09\40\7c\d9\12\40\fb\21\19\40"
    "\7a\6a\1f\40\7c\d9\22\40\bb\fd\25\40\fb\21\29\40"
    "\3a\46\2c\40\7a\6a\2f\40\5c\47\31\40\7c\d9\32\40"
    "\9c\6b\34\40\bb\fd\35\40\db\8f\37\40\fb\21\39\40"
    "\1b\b4\3a\40\3a\46\3c\40\5a\d8\3d\40\7a\6a\3f\40"
    "\4c\7e\40\40\5c\47\41\40\6c\10\42\40\7c\d9\42\40"
    "\8c\a2\43\40\9c\6b\44\40\ac\34\45\40\bb\fd\45\40"
    "\cb\c6\46\40\db\8f\47\40\eb\58\48\40\fb\21\49\40")

  ;; The SIMD code's constants, each in both lanes (globals: V8 reads them from the instance
  ;; instead of rebuilding a v128.const at every use). fdlibm's are those of the table above.
  (global $half_x2 v128 (v128.const f64x2 0.5 0.5))
  (global $one_x2 v128 (v128.const f64x2 1 1))
  (global $two_x2 v128 (v128.const f64x2 2 2))
  (global $minus_two_x2 v128 (v128.const f64x2 -2 -2))
  (global $two_m32_x2 v128 (v128.const f64x2 0x1p-32 0x1p-32))
  (global $two_pi_x2 v128 (v128.const f64x2 0x1.921fb54442d18p+2 0x1.921fb54442d18p+2))
  (global $q_0_28125_x2 v128 (v128.const f64x2 0.28125 0.28125))
  (global $ln2_hi_x2 v128 (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))
  (global $ln2_lo_x2 v128 (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))
  (global $Lg1_x2 v128 (v128.const f64x2 6.666666666666735130e-01 6.666666666666735130e-01))
  (global $Lg2_x2 v128 (v128.const f64x2 3.999999999940941908e-01 3.999999999940941908e-01))
  (global $Lg3_x2 v128 (v128.const f64x2 2.857142874366239149e-01 2.857142874366239149e-01))
  (global $Lg4_x2 v128 (v128.const f64x2 2.222219843214978396e-01 2.222219843214978396e-01))
  (global $Lg5_x2 v128 (v128.const f64x2 1.818357216161805012e-01 1.818357216161805012e-01))
  (global $Lg6_x2 v128 (v128.const f64x2 1.531383769920937332e-01 1.531383769920937332e-01))
  (global $Lg7_x2 v128 (v128.const f64x2 1.479819860511658591e-01 1.479819860511658591e-01))
  (global $invpio2_x2 v128 (v128.const f64x2 6.36619772367581382433e-01 6.36619772367581382433e-01))
  (global $pio2_1_x2 v128 (v128.const f64x2 1.57079632673412561417e+00 1.57079632673412561417e+00))
  (global $pio2_1t_x2 v128 (v128.const f64x2 6.07710050650619224932e-11 6.07710050650619224932e-11))
  (global $S1_x2 v128 (v128.const f64x2 -1.66666666666666324348e-01 -1.66666666666666324348e-01))
  (global $S2_x2 v128 (v128.const f64x2 8.33333333332248946124e-03 8.33333333332248946124e-03))
  (global $S3_x2 v128 (v128.const f64x2 -1.98412698298579493134e-04 -1.98412698298579493134e-04))
  (global $S4_x2 v128 (v128.const f64x2 2.75573137070700676789e-06 2.75573137070700676789e-06))
  (global $S5_x2 v128 (v128.const f64x2 -2.50507602534068634195e-08 -2.50507602534068634195e-08))
  (global $S6_x2 v128 (v128.const f64x2 1.58969099521155010221e-10 1.58969099521155010221e-10))
  (global $C1_x2 v128 (v128.const f64x2 4.16666666666666019037e-02 4.16666666666666019037e-02))
  (global $C2_x2 v128 (v128.const f64x2 -1.38888888888741095749e-03 -1.38888888888741095749e-03))
  (global $C3_x2 v128 (v128.const f64x2 2.48015872894767294178e-05 2.48015872894767294178e-05))
  (global $C4_x2 v128 (v128.const f64x2 -2.75573143513906633035e-07 -2.75573143513906633035e-07))
  (global $C5_x2 v128 (v128.const f64x2 2.08757232129817482790e-09 2.08757232129817482790e-09))
  (global $C6_x2 v128 (v128.const f64x2 -1.13596475577881948265e-11 -1.13596475577881948265e-11))
  (global $i64_d1 v128 (v128.const i64x2 1 1))
  (global $i64_d2 v128 (v128.const i64x2 2 2))
  (global $i64_d3 v128 (v128.const i64x2 3 3))
  (global $i64_d1023 v128 (v128.const i64x2 1023 1023))
  (global $i64_FFFFF v128 (v128.const i64x2 0x000FFFFF 0x000FFFFF))
  (global $i64_95F64 v128 (v128.const i64x2 0x95F64 0x95F64))
  (global $i64_100000 v128 (v128.const i64x2 0x100000 0x100000))
  (global $i64_3FF00000 v128 (v128.const i64x2 0x3FF00000 0x3FF00000))
  (global $i64_FFFFFFFF v128 (v128.const i64x2 0xFFFFFFFF 0xFFFFFFFF))
  (global $i64_6147A v128 (v128.const i64x2 0x6147A 0x6147A))
  (global $i64_6B851 v128 (v128.const i64x2 0x6B851 0x6B851))
  (global $i64_7FFFFFFF v128 (v128.const i64x2 0x7FFFFFFF 0x7FFFFFFF))
  (global $i64_200000 v128 (v128.const i64x2 0x00200000 0x00200000))
  (global $i64_3FD33333 v128 (v128.const i64x2 0x3FD33333 0x3FD33333))
  (global $i64_3FE90000 v128 (v128.const i64x2 0x3FE90000 0x3FE90000))
  (global $i64_3FE921FB v128 (v128.const i64x2 0x3FE921FB 0x3FE921FB))
  (global $i64_3E400000 v128 (v128.const i64x2 0x3E400000 0x3E400000))
  (global $i64_3FF921FB v128 (v128.const i64x2 0x3FF921FB 0x3FF921FB))
  (global $i64_400921FB v128 (v128.const i64x2 0x400921FB 0x400921FB))
  (global $i64_4012D97C v128 (v128.const i64x2 0x4012D97C 0x4012D97C))
  (global $i64_401921FB v128 (v128.const i64x2 0x401921FB 0x401921FB))
  (global $two52_x2 v128 (v128.const f64x2 0x1p52 0x1p52))
  (global $philox_m0_x4 v128 (v128.const i32x4 0xD2511F53 0xD2511F53 0xD2511F53 0xD2511F53))
  (global $philox_m1_x4 v128 (v128.const i32x4 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57 0xCD9E8D57))

  ;; blocks(ptr, n, lo, hi, c2, c3, k0, k1): n Philox4x32-10 blocks of counters
  ;; (lo, hi) + j (a 64-bit block index), c2, c3 and key (k0, k1), 4 words each, from byte ptr on.
  (func $blocks (export "blocks") (param $ptr i32) (param $n i32) (param $lo i32) (param $hi i32) (param $c2 i32) (param $c3 i32) (param $k0 i32) (param $k1 i32)
    (local $index i64) (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $a0 i32) (local $a1 i32) (local $round i32) (local $p0 i64) (local $p1 i64)
    (local.set $index (i64.or (i64.extend_i32_u (local.get $lo)) (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32))))
    (block $done
      (loop $block
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x0 (i32.wrap_i64 (local.get $index)))
        (local.set $x1 (i32.wrap_i64 (i64.shr_u (local.get $index) (i64.const 32))))
        (local.set $x2 (local.get $c2))
        (local.set $x3 (local.get $c3))
        (local.set $a0 (local.get $k0))
        (local.set $a1 (local.get $k1))
        (local.set $round (i32.const 10))
        (loop $rounds
          (local.set $p0 (i64.mul (i64.const 0xD2511F53) (i64.extend_i32_u (local.get $x0))))
          (local.set $p1 (i64.mul (i64.const 0xCD9E8D57) (i64.extend_i32_u (local.get $x2))))
          (local.set $x0 (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p1) (i64.const 32))) (local.get $x1)) (local.get $a0)))
          (local.set $x1 (i32.wrap_i64 (local.get $p1)))
          (local.set $x2 (i32.xor (i32.xor (i32.wrap_i64 (i64.shr_u (local.get $p0) (i64.const 32))) (local.get $x3)) (local.get $a1)))
          (local.set $x3 (i32.wrap_i64 (local.get $p0)))
          (local.set $a0 (i32.add (local.get $a0) (i32.const 0x9E3779B9)))
          (local.set $a1 (i32.add (local.get $a1) (i32.const 0xBB67AE85)))
          (br_if $rounds (local.tee $round (i32.sub (local.get $round) (i32.const 1)))))
        (i32.store (local.get $ptr) (local.get $x0))
        (i32.store offset=4 (local.get $ptr) (local.get $x1))
        (i32.store offset=8 (local.get $ptr) (local.get $x2))
        (i32.store offset=12 (local.get $ptr) (local.get $x3))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (local.set $index (i64.add (local.get $index) (i64.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $block))))

  ;; blocksSimd(ptr, n, lo, hi, c2, c3, k0, k1): `blocks`, four blocks at a time on the four i32
  ;; lanes (lane j: block index + j), the last n mod 4 by `blocks`. The same integer arithmetic:
  ;; i64x2.extmul_*_i32x4_u are the 32 × 32 → 64-bit products, split into halves by shuffles.
  (func $blocksSimd (param $ptr i32) (param $n i32) (param $lo i32) (param $hi i32) (param $c2 i32) (param $c3 i32) (param $k0 i32) (param $k1 i32)
    (local $index i64) (local $a0 i32) (local $a1 i32) (local $round i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $index (i64.or (i64.extend_i32_u (local.get $lo)) (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32))))
    (block $done
      (loop $four
        (br_if $done (i32.lt_u (local.get $n) (i32.const 4)))
        ;; counter words 0 and 1 of blocks index + j: the low word plus j, the carry into the high word
        (local.set $t0 (i32x4.splat (i32.wrap_i64 (local.get $index))))
        (local.set $x0 (i32x4.add (local.get $t0) (v128.const i32x4 0 1 2 3)))
        (local.set $x1 (i32x4.sub (i32x4.splat (i32.wrap_i64 (i64.shr_u (local.get $index) (i64.const 32))))
          (i32x4.lt_u (local.get $x0) (local.get $t0))))
        (local.set $x2 (i32x4.splat (local.get $c2)))
        (local.set $x3 (i32x4.splat (local.get $c3)))
        (local.set $a0 (local.get $k0))
        (local.set $a1 (local.get $k1))
        (local.set $round (i32.const 10))
        (loop $rounds
          ;; p0 = 0xD2511F53 · x0, p1 = 0xCD9E8D57 · x2 (64-bit products, lanes 0 1 | 2 3)
          (local.set $e0 (i64x2.extmul_low_i32x4_u (local.get $x0) (global.get $philox_m0_x4)))
          (local.set $e1 (i64x2.extmul_high_i32x4_u (local.get $x0) (global.get $philox_m0_x4)))
          (local.set $e2 (i64x2.extmul_low_i32x4_u (local.get $x2) (global.get $philox_m1_x4)))
          (local.set $e3 (i64x2.extmul_high_i32x4_u (local.get $x2) (global.get $philox_m1_x4)))
          ;; x0 = hi(p1) ^ x1 ^ a0; x1 = lo(p1); x2 = hi(p0) ^ x3 ^ a1; x3 = lo(p0)
          (local.set $x0 (v128.xor (v128.xor
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $e2) (local.get $e3))
            (local.get $x1)) (i32x4.splat (local.get $a0))))
          (local.set $x1 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $e2) (local.get $e3)))
          (local.set $x2 (v128.xor (v128.xor
            (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $e0) (local.get $e1))
            (local.get $x3)) (i32x4.splat (local.get $a1))))
          (local.set $x3 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $e0) (local.get $e1)))
          (local.set $a0 (i32.add (local.get $a0) (i32.const 0x9E3779B9)))
          (local.set $a1 (i32.add (local.get $a1) (i32.const 0xBB67AE85)))
          (br_if $rounds (local.tee $round (i32.sub (local.get $round) (i32.const 1)))))
        ;; lanes to blocks: block j = x0[j], x1[j], x2[j], x3[j]
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x0) (local.get $x1)))
        (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x2) (local.get $x3)))
        (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x0) (local.get $x1)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x2) (local.get $x3)))
        (v128.store (local.get $ptr) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
        (v128.store offset=16 (local.get $ptr) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
        (v128.store offset=32 (local.get $ptr) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
        (v128.store offset=48 (local.get $ptr) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 64)))
        (local.set $index (i64.add (local.get $index) (i64.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $four)))
    (call $blocks (local.get $ptr) (local.get $n) (i32.wrap_i64 (local.get $index)) (i32.wrap_i64 (i64.shr_u (local.get $index) (i64.const 32)))
      (local.get $c2) (local.get $c3) (local.get $k0) (local.get $k1)))

  ;; double log(double x), ieee754.cc. GET_HIGH_WORD / GET_LOW_WORD / SET_HIGH_WORD are
  ;; i64.reinterpret_f64 with shifts and masks; int32_t comparisons are signed (_s).
  (func $log (param $x f64) (result f64)
    (local $hfsq f64) (local $f f64) (local $s f64) (local $z f64) (local $R f64) (local $w f64)
    (local $t1 f64) (local $t2 f64) (local $dk f64)
    (local $k i32) (local $hx i32) (local $i i32) (local $j i32) (local $lx i32)
    ;; EXTRACT_WORDS(hx, lx, x);
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
    (local.set $lx (i32.wrap_i64 (i64.reinterpret_f64 (local.get $x))))
    ;; k = 0;
    (local.set $k (i32.const 0))
    ;; if (hx < 0x00100000) { /* x < 2**-1022  */
    (if (i32.lt_s (local.get $hx) (i32.const 0x00100000))
      (then
        ;; if (((hx & 0x7FFFFFFF) | lx) == 0) return -infinity; /* log(+-0)=-inf */
        (if (i32.eqz (i32.or (i32.and (local.get $hx) (i32.const 0x7FFFFFFF)) (local.get $lx)))
          (then (return (f64.const -inf))))
        ;; if (hx < 0) return NaN; /* log(-#) = NaN */
        (if (i32.lt_s (local.get $hx) (i32.const 0)) (then (return (f64.const nan))))
        ;; k -= 54; x *= two54; /* subnormal number, scale up x */ GET_HIGH_WORD(hx, x);
        (local.set $k (i32.sub (local.get $k) (i32.const 54)))
        (local.set $x (f64.mul (local.get $x) (f64.const 1.80143985094819840000e+16)))
        (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))))
    ;; if (hx >= 0x7FF00000) return x + x;
    (if (i32.ge_s (local.get $hx) (i32.const 0x7FF00000)) (then (return (f64.add (local.get $x) (local.get $x)))))
    ;; k += (hx >> 20) - 1023;
    (local.set $k (i32.add (local.get $k) (i32.sub (i32.shr_s (local.get $hx) (i32.const 20)) (i32.const 1023))))
    ;; hx &= 0x000FFFFF;
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x000FFFFF)))
    ;; i = (hx + 0x95F64) & 0x100000;
    (local.set $i (i32.and (i32.add (local.get $hx) (i32.const 0x95F64)) (i32.const 0x100000)))
    ;; SET_HIGH_WORD(x, hx | (i ^ 0x3FF00000)); /* normalize x or x/2 */
    (local.set $x (f64.reinterpret_i64 (i64.or
      (i64.shl (i64.extend_i32_u (i32.or (local.get $hx) (i32.xor (local.get $i) (i32.const 0x3FF00000)))) (i64.const 32))
      (i64.and (i64.reinterpret_f64 (local.get $x)) (i64.const 0xFFFFFFFF)))))
    ;; k += (i >> 20);
    (local.set $k (i32.add (local.get $k) (i32.shr_s (local.get $i) (i32.const 20))))
    ;; f = x - 1.0;
    (local.set $f (f64.sub (local.get $x) (f64.const 1)))
    ;; if ((0x000FFFFF & (2 + hx)) < 3) { /* -2**-20 <= f < 2**-20 */
    (if (i32.lt_s (i32.and (i32.const 0x000FFFFF) (i32.add (i32.const 2) (local.get $hx))) (i32.const 3))
      (then
        ;; if (f == zero) {
        (if (f64.eq (local.get $f) (f64.const 0))
          (then
            ;; if (k == 0) return zero;
            (if (i32.eqz (local.get $k)) (then (return (f64.const 0))))
            ;; dk = k; return dk * ln2_hi + dk * ln2_lo;
            (local.set $dk (f64.convert_i32_s (local.get $k)))
            (return (f64.add
              (f64.mul (local.get $dk) (f64.const 6.93147180369123816490e-01))
              (f64.mul (local.get $dk) (f64.const 1.90821492927058770002e-10))))))
        ;; R = f * f * (0.5 - 0.33333333333333333 * f);
        (local.set $R (f64.mul (f64.mul (local.get $f) (local.get $f))
          (f64.sub (f64.const 0.5) (f64.mul (f64.const 0.33333333333333333) (local.get $f)))))
        ;; if (k == 0) return f - R;
        (if (i32.eqz (local.get $k)) (then (return (f64.sub (local.get $f) (local.get $R)))))
        ;; dk = k; return dk * ln2_hi - ((R - dk * ln2_lo) - f);
        (local.set $dk (f64.convert_i32_s (local.get $k)))
        (return (f64.sub
          (f64.mul (local.get $dk) (f64.const 6.93147180369123816490e-01))
          (f64.sub
            (f64.sub (local.get $R) (f64.mul (local.get $dk) (f64.const 1.90821492927058770002e-10)))
            (local.get $f))))))
    ;; s = f / (2.0 + f);
    (local.set $s (f64.div (local.get $f) (f64.add (f64.const 2) (local.get $f))))
    ;; dk = k;
    (local.set $dk (f64.convert_i32_s (local.get $k)))
    ;; z = s * s;
    (local.set $z (f64.mul (local.get $s) (local.get $s)))
    ;; i = hx - 0x6147A;
    (local.set $i (i32.sub (local.get $hx) (i32.const 0x6147A)))
    ;; w = z * z;
    (local.set $w (f64.mul (local.get $z) (local.get $z)))
    ;; j = 0x6B851 - hx;
    (local.set $j (i32.sub (i32.const 0x6B851) (local.get $hx)))
    ;; t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    (local.set $t1 (f64.mul (local.get $w)
      (f64.add (f64.const 3.999999999940941908e-01) (f64.mul (local.get $w)
        (f64.add (f64.const 2.222219843214978396e-01) (f64.mul (local.get $w) (f64.const 1.531383769920937332e-01)))))))
    ;; t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    (local.set $t2 (f64.mul (local.get $z)
      (f64.add (f64.const 6.666666666666735130e-01) (f64.mul (local.get $w)
        (f64.add (f64.const 2.857142874366239149e-01) (f64.mul (local.get $w)
          (f64.add (f64.const 1.818357216161805012e-01) (f64.mul (local.get $w) (f64.const 1.479819860511658591e-01)))))))))
    ;; i |= j;
    (local.set $i (i32.or (local.get $i) (local.get $j)))
    ;; R = t2 + t1;
    (local.set $R (f64.add (local.get $t2) (local.get $t1)))
    ;; if (i > 0) {
    (if (result f64) (i32.gt_s (local.get $i) (i32.const 0))
      (then
        ;; hfsq = 0.5 * f * f;
        (local.set $hfsq (f64.mul (f64.mul (f64.const 0.5) (local.get $f)) (local.get $f)))
        (if (result f64) (i32.eqz (local.get $k))
          ;; return f - (hfsq - s * (hfsq + R));
          (then (f64.sub (local.get $f)
            (f64.sub (local.get $hfsq) (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R))))))
          ;; return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
          (else (f64.sub
            (f64.mul (local.get $dk) (f64.const 6.93147180369123816490e-01))
            (f64.sub
              (f64.sub (local.get $hfsq)
                (f64.add
                  (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R)))
                  (f64.mul (local.get $dk) (f64.const 1.90821492927058770002e-10))))
              (local.get $f))))))
      (else
        (if (result f64) (i32.eqz (local.get $k))
          ;; return f - s * (f - R);
          (then (f64.sub (local.get $f) (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R)))))
          ;; return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
          (else (f64.sub
            (f64.mul (local.get $dk) (f64.const 6.93147180369123816490e-01))
            (f64.sub
              (f64.sub
                (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R)))
                (f64.mul (local.get $dk) (f64.const 1.90821492927058770002e-10)))
              (local.get $f))))))))

  ;; __kernel_sin(x, y, iy), ieee754.cc: sin on [-π/4, π/4], y the tail of x, iy = 0 when y is 0.
  (func $kernel_sin (param $x f64) (param $y f64) (param $iy i32) (result f64)
    (local $z f64) (local $r f64) (local $v f64)
    ;; GET_HIGH_WORD(ix, x); ix &= 0x7FFFFFFF;
    ;; if (ix < 0x3E400000) { if (static_cast<int>(x) == 0) return x; } (|x| < 2^-27: always)
    (if (i32.lt_s
          (i32.and (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))) (i32.const 0x7FFFFFFF))
          (i32.const 0x3E400000))
      (then (return (local.get $x))))
    ;; z = x * x;
    (local.set $z (f64.mul (local.get $x) (local.get $x)))
    ;; v = z * x;
    (local.set $v (f64.mul (local.get $z) (local.get $x)))
    ;; r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
    (local.set $r (f64.add (f64.const 8.33333333332248946124e-03) (f64.mul (local.get $z)
      (f64.add (f64.const -1.98412698298579493134e-04) (f64.mul (local.get $z)
        (f64.add (f64.const 2.75573137070700676789e-06) (f64.mul (local.get $z)
          (f64.add (f64.const -2.50507602534068634195e-08) (f64.mul (local.get $z) (f64.const 1.58969099521155010221e-10))))))))))
    (if (result f64) (i32.eqz (local.get $iy))
      ;; return x + v * (S1 + z * r);
      (then (f64.add (local.get $x) (f64.mul (local.get $v)
        (f64.add (f64.const -1.66666666666666324348e-01) (f64.mul (local.get $z) (local.get $r))))))
      ;; return x - ((z * (half * y - v * r) - y) - v * S1);
      (else (f64.sub (local.get $x)
        (f64.sub
          (f64.sub
            (f64.mul (local.get $z) (f64.sub (f64.mul (f64.const 0.5) (local.get $y)) (f64.mul (local.get $v) (local.get $r))))
            (local.get $y))
          (f64.mul (local.get $v) (f64.const -1.66666666666666324348e-01)))))))

  ;; __kernel_cos(x, y), ieee754.cc: cos on [-π/4, π/4], y the tail of x.
  (func $kernel_cos (param $x f64) (param $y f64) (result f64)
    (local $ix i32) (local $z f64) (local $r f64) (local $qx f64)
    ;; GET_HIGH_WORD(ix, x); ix &= 0x7FFFFFFF;
    (local.set $ix (i32.and (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))) (i32.const 0x7FFFFFFF)))
    ;; if (ix < 0x3E400000) { if (static_cast<int>(x) == 0) return one; } (|x| < 2^-27: always)
    (if (i32.lt_s (local.get $ix) (i32.const 0x3E400000)) (then (return (f64.const 1))))
    ;; z = x * x;
    (local.set $z (f64.mul (local.get $x) (local.get $x)))
    ;; r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    (local.set $r (f64.mul (local.get $z)
      (f64.add (f64.const 4.16666666666666019037e-02) (f64.mul (local.get $z)
        (f64.add (f64.const -1.38888888888741095749e-03) (f64.mul (local.get $z)
          (f64.add (f64.const 2.48015872894767294178e-05) (f64.mul (local.get $z)
            (f64.add (f64.const -2.75573143513906633035e-07) (f64.mul (local.get $z)
              (f64.add (f64.const 2.08757232129817482790e-09) (f64.mul (local.get $z) (f64.const -1.13596475577881948265e-11)))))))))))))
    ;; if (ix < 0x3FD33333) return one - (0.5 * z - (z * r - x * y)); /* if |x| < 0.3 */
    (if (i32.lt_s (local.get $ix) (i32.const 0x3FD33333))
      (then (return (f64.sub (f64.const 1)
        (f64.sub (f64.mul (f64.const 0.5) (local.get $z))
          (f64.sub (f64.mul (local.get $z) (local.get $r)) (f64.mul (local.get $x) (local.get $y))))))))
    ;; if (ix > 0x3FE90000) qx = 0.28125; /* x > 0.78125 */
    ;; else INSERT_WORDS(qx, ix - 0x00200000, 0); /* x/4 */
    (local.set $qx (if (result f64) (i32.gt_s (local.get $ix) (i32.const 0x3FE90000))
      (then (f64.const 0.28125))
      (else (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.sub (local.get $ix) (i32.const 0x00200000))) (i64.const 32))))))
    ;; iz = 0.5 * z - qx; a = one - qx; return a - (iz - (z * r - x * y));
    (f64.sub
      (f64.sub (f64.const 1) (local.get $qx))
      (f64.sub
        (f64.sub (f64.mul (f64.const 0.5) (local.get $z)) (local.get $qx))
        (f64.sub (f64.mul (local.get $z) (local.get $r)) (f64.mul (local.get $x) (local.get $y))))))

  ;; __ieee754_rem_pio2(x, y), ieee754.cc, for π/4 < |x| with high word <= 0x413921FB (the callers' range):
  ;; returns y[0], y[1] (x − n·π/2 as a head and a tail) and n.
  (func $rem_pio2 (param $x f64) (result f64 f64 i32)
    (local $hx i32) (local $ix i32) (local $n i32) (local $j i32) (local $i i32) (local $quick i32)
    (local $z f64) (local $t f64) (local $r f64) (local $w f64) (local $fn f64) (local $y0 f64) (local $y1 f64)
    ;; GET_HIGH_WORD(hx, x); ix = hx & 0x7FFFFFFF;
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
    (local.set $ix (i32.and (local.get $hx) (i32.const 0x7FFFFFFF)))
    ;; if (ix < 0x4002D97C) { /* |x| < 3pi/4, special case with n=+-1 */
    (if (i32.lt_s (local.get $ix) (i32.const 0x4002D97C))
      (then
        (if (i32.gt_s (local.get $hx) (i32.const 0))
          (then
            ;; z = x - pio2_1;
            (local.set $z (f64.sub (local.get $x) (f64.const 1.57079632673412561417e+00)))
            (if (i32.ne (local.get $ix) (i32.const 0x3FF921FB))
              (then
                ;; y[0] = z - pio2_1t; y[1] = (z - y[0]) - pio2_1t; /* 33+53 bit pi is good enough */
                (local.set $y0 (f64.sub (local.get $z) (f64.const 6.07710050650619224932e-11)))
                (local.set $y1 (f64.sub (f64.sub (local.get $z) (local.get $y0)) (f64.const 6.07710050650619224932e-11))))
              (else
                ;; z -= pio2_2; y[0] = z - pio2_2t; y[1] = (z - y[0]) - pio2_2t; /* near pi/2 */
                (local.set $z (f64.sub (local.get $z) (f64.const 6.07710050630396597660e-11)))
                (local.set $y0 (f64.sub (local.get $z) (f64.const 2.02226624879595063154e-21)))
                (local.set $y1 (f64.sub (f64.sub (local.get $z) (local.get $y0)) (f64.const 2.02226624879595063154e-21)))))
            ;; return 1;
            (return (local.get $y0) (local.get $y1) (i32.const 1)))
          (else
            ;; z = x + pio2_1; /* negative x */
            (local.set $z (f64.add (local.get $x) (f64.const 1.57079632673412561417e+00)))
            (if (i32.ne (local.get $ix) (i32.const 0x3FF921FB))
              (then
                ;; y[0] = z + pio2_1t; y[1] = (z - y[0]) + pio2_1t;
                (local.set $y0 (f64.add (local.get $z) (f64.const 6.07710050650619224932e-11)))
                (local.set $y1 (f64.add (f64.sub (local.get $z) (local.get $y0)) (f64.const 6.07710050650619224932e-11))))
              (else
                ;; z += pio2_2; y[0] = z + pio2_2t; y[1] = (z - y[0]) + pio2_2t;
                (local.set $z (f64.add (local.get $z) (f64.const 6.07710050630396597660e-11)))
                (local.set $y0 (f64.add (local.get $z) (f64.const 2.02226624879595063154e-21)))
                (local.set $y1 (f64.add (f64.sub (local.get $z) (local.get $y0)) (f64.const 2.02226624879595063154e-21)))))
            ;; return -1;
            (return (local.get $y0) (local.get $y1) (i32.const -1))))))
    ;; if (ix <= 0x413921FB) { /* |x| ~<= 2^19*(pi/2), medium size */ (the callers' range)
    ;; t = fabs(x);
    (local.set $t (f64.abs (local.get $x)))
    ;; n = static_cast<int32_t>(t * invpio2 + half);
    (local.set $n (i32.trunc_f64_s (f64.add (f64.mul (local.get $t) (f64.const 6.36619772367581382433e-01)) (f64.const 0.5))))
    ;; fn = static_cast<double>(n);
    (local.set $fn (f64.convert_i32_s (local.get $n)))
    ;; r = t - fn * pio2_1;
    (local.set $r (f64.sub (local.get $t) (f64.mul (local.get $fn) (f64.const 1.57079632673412561417e+00))))
    ;; w = fn * pio2_1t; /* 1st round good to 85 bit */
    (local.set $w (f64.mul (local.get $fn) (f64.const 6.07710050650619224932e-11)))
    ;; if (n < 32 && ix != npio2_hw[n - 1]) (n >= 2 here)
    (if (i32.lt_s (local.get $n) (i32.const 32))
      (then (local.set $quick (i32.ne (local.get $ix)
        (i32.load offset=196640 (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 2)))))))
    (if (local.get $quick)
      (then
        ;; y[0] = r - w; /* quick check no cancellation */
        (local.set $y0 (f64.sub (local.get $r) (local.get $w))))
      (else
        ;; j = ix >> 20;
        (local.set $j (i32.shr_s (local.get $ix) (i32.const 20)))
        ;; y[0] = r - w;
        (local.set $y0 (f64.sub (local.get $r) (local.get $w)))
        ;; GET_HIGH_WORD(high, y[0]); i = j - ((high >> 20) & 0x7FF);
        (local.set $i (i32.sub (local.get $j) (i32.and
          (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $y0)) (i64.const 52))) (i32.const 0x7FF))))
        ;; if (i > 16) { /* 2nd iteration needed, good to 118 */
        (if (i32.gt_s (local.get $i) (i32.const 16))
          (then
            ;; t = r; w = fn * pio2_2; r = t - w; w = fn * pio2_2t - ((t - r) - w); y[0] = r - w;
            (local.set $t (local.get $r))
            (local.set $w (f64.mul (local.get $fn) (f64.const 6.07710050630396597660e-11)))
            (local.set $r (f64.sub (local.get $t) (local.get $w)))
            (local.set $w (f64.sub (f64.mul (local.get $fn) (f64.const 2.02226624879595063154e-21))
              (f64.sub (f64.sub (local.get $t) (local.get $r)) (local.get $w))))
            (local.set $y0 (f64.sub (local.get $r) (local.get $w)))
            ;; GET_HIGH_WORD(high, y[0]); i = j - ((high >> 20) & 0x7FF);
            (local.set $i (i32.sub (local.get $j) (i32.and
              (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $y0)) (i64.const 52))) (i32.const 0x7FF))))
            ;; if (i > 49) { /* 3rd iteration need, 151 bits acc */
            (if (i32.gt_s (local.get $i) (i32.const 49))
              (then
                ;; t = r; w = fn * pio2_3; r = t - w; w = fn * pio2_3t - ((t - r) - w); y[0] = r - w;
                (local.set $t (local.get $r))
                (local.set $w (f64.mul (local.get $fn) (f64.const 2.02226624871116645580e-21)))
                (local.set $r (f64.sub (local.get $t) (local.get $w)))
                (local.set $w (f64.sub (f64.mul (local.get $fn) (f64.const 8.47842766036889956997e-32))
                  (f64.sub (f64.sub (local.get $t) (local.get $r)) (local.get $w))))
                (local.set $y0 (f64.sub (local.get $r) (local.get $w)))))))))
    ;; y[1] = (r - y[0]) - w;
    (local.set $y1 (f64.sub (f64.sub (local.get $r) (local.get $y0)) (local.get $w)))
    ;; if (hx < 0) { y[0] = -y[0]; y[1] = -y[1]; return -n; } else return n;
    (if (i32.lt_s (local.get $hx) (i32.const 0))
      (then (return (f64.neg (local.get $y0)) (f64.neg (local.get $y1)) (i32.sub (i32.const 0) (local.get $n)))))
    (local.get $y0) (local.get $y1) (local.get $n))

  ;; cos(x) and sin(x) of ieee754.cc, sharing the reduction: returns cos x, sin x.
  (func $sincos (param $x f64) (result f64 f64)
    (local $ix i32) (local $n i32) (local $y0 f64) (local $y1 f64) (local $s f64) (local $c f64)
    ;; GET_HIGH_WORD(ix, x); ix &= 0x7FFFFFFF;
    (local.set $ix (i32.and (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))) (i32.const 0x7FFFFFFF)))
    ;; if (ix <= 0x3FE921FB) return __kernel_cos(x, z) / __kernel_sin(x, z, 0); (z = 0.0)
    (if (i32.le_s (local.get $ix) (i32.const 0x3FE921FB))
      (then (return
        (call $kernel_cos (local.get $x) (f64.const 0))
        (call $kernel_sin (local.get $x) (f64.const 0) (i32.const 0)))))
    ;; else if (ix >= 0x7FF00000) return x - x; /* Inf or NaN */ and, unlike fdlibm, NaN for
    ;; the finite |x| beyond the medium range too, where __kernel_rem_pio2 (not ported) would be needed.
    (if (i32.gt_s (local.get $ix) (i32.const 0x413921FB))
      (then (return (f64.const nan) (f64.const nan))))
    ;; n = __ieee754_rem_pio2(x, y);
    (call $rem_pio2 (local.get $x))
    (local.set $n)
    (local.set $y1)
    (local.set $y0)
    (local.set $s (call $kernel_sin (local.get $y0) (local.get $y1) (i32.const 1)))
    (local.set $c (call $kernel_cos (local.get $y0) (local.get $y1)))
    ;; switch (n & 3): cos: C, -S, -C, S; sin: S, C, -S, -C
    (block $n3
      (block $n2
        (block $n1
          (block $n0
            (br_table $n0 $n1 $n2 $n3 (i32.and (local.get $n) (i32.const 3))))
          (return (local.get $c) (local.get $s)))
        (return (f64.neg (local.get $s)) (local.get $c)))
      (return (f64.neg (local.get $c)) (f64.neg (local.get $s))))
    (local.get $s) (f64.neg (local.get $c)))

  ;; -------------------------------------------------------------------------------------------
  ;; The same functions on two lanes (f64x2), for the bulk: every operation of the C code is done
  ;; lane-wise (SIMD f64 arithmetic rounds each lane exactly as scalar arithmetic does, and wasm
  ;; has no FMA contraction), and the C branches become a per-lane choice between computed
  ;; results (v128.bitselect). Lanes where a branch would need more (rare inputs) are flagged;
  ;; the caller computes those with the scalar functions above. Valid for Box–Muller's inputs
  ;; only: $log2 for normal 0 < u < 1, $sincos2 for 0 < θ < 2π.
  ;; -------------------------------------------------------------------------------------------

  ;; log(u) on two lanes; returns the logs and a mask of the lanes to redo with $log: those where
  ;; fdlibm takes its -2^-20 <= f < 2^-20 branch (3 in 2^20 of u).
  ;; For k == 0, fdlibm returns f - (hfsq - s*(hfsq+R)) (or f - s*(f-R)) where this computes
  ;; dk*ln2_hi - ((hfsq - (s*(hfsq+R) + dk*ln2_lo)) - f) (or its i <= 0 twin) with dk = +0:
  ;; the same bits, since P + 0 = P (up to a zero's sign, which then vanishes in hfsq - P),
  ;; 0 - X = -X and -(a - f) = f - a exactly in round-to-nearest (both +0 when a = f).
  (func $log2 (param $x v128) (result v128 v128)
    (local $hx v128) (local $k v128) (local $i v128) (local $f v128) (local $s v128) (local $dk v128)
    (local $z v128) (local $w v128) (local $R v128) (local $hfsq v128)
    ;; EXTRACT_WORDS(hx, lx, x) (x > 0: the lanes' high words, as i64)
    (local.set $hx (i64x2.shr_u (local.get $x) (i32.const 32)))
    ;; k = 0; k += (hx >> 20) - 1023; (x normal: no subnormal scaling)
    (local.set $k (i64x2.sub (i64x2.shr_u (local.get $hx) (i32.const 20)) (global.get $i64_d1023)))
    ;; hx &= 0x000FFFFF;
    (local.set $hx (v128.and (local.get $hx) (global.get $i64_FFFFF)))
    ;; i = (hx + 0x95F64) & 0x100000;
    (local.set $i (v128.and (i64x2.add (local.get $hx) (global.get $i64_95F64)) (global.get $i64_100000)))
    ;; SET_HIGH_WORD(x, hx | (i ^ 0x3FF00000)); /* normalize x or x/2 */
    (local.set $x (v128.or
      (i64x2.shl (v128.or (local.get $hx) (v128.xor (local.get $i) (global.get $i64_3FF00000))) (i32.const 32))
      (v128.and (local.get $x) (global.get $i64_FFFFFFFF))))
    ;; k += (i >> 20);
    (local.set $k (i64x2.add (local.get $k) (i64x2.shr_u (local.get $i) (i32.const 20))))
    ;; f = x - 1.0;
    (local.set $f (f64x2.sub (local.get $x) (global.get $one_x2)))
    ;; s = f / (2.0 + f);
    (local.set $s (f64x2.div (local.get $f) (f64x2.add (global.get $two_x2) (local.get $f))))
    ;; dk = static_cast<double>(k); (k's low words into i32 lanes 0 and 1, converted exactly)
    (local.set $dk (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $k) (local.get $k))))
    ;; z = s * s; w = z * z;
    (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
    (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
    ;; R = t2 + t1, t1 = w * (Lg2 + w * (Lg4 + w * Lg6)), t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    (local.set $R (f64x2.add
      (f64x2.mul (local.get $z)
        (f64x2.add (global.get $Lg1_x2) (f64x2.mul (local.get $w)
          (f64x2.add (global.get $Lg3_x2) (f64x2.mul (local.get $w)
            (f64x2.add (global.get $Lg5_x2) (f64x2.mul (local.get $w) (global.get $Lg7_x2))))))))
      (f64x2.mul (local.get $w)
        (f64x2.add (global.get $Lg2_x2) (f64x2.mul (local.get $w)
          (f64x2.add (global.get $Lg4_x2) (f64x2.mul (local.get $w) (global.get $Lg6_x2))))))))
    ;; hfsq = 0.5 * f * f;
    (local.set $hfsq (f64x2.mul (f64x2.mul (global.get $half_x2) (local.get $f)) (local.get $f)))
    (v128.bitselect
      ;; i > 0: return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
      (f64x2.sub
        (f64x2.mul (local.get $dk) (global.get $ln2_hi_x2))
        (f64x2.sub
          (f64x2.sub (local.get $hfsq)
            (f64x2.add
              (f64x2.mul (local.get $s) (f64x2.add (local.get $hfsq) (local.get $R)))
              (f64x2.mul (local.get $dk) (global.get $ln2_lo_x2))))
          (local.get $f)))
      ;; else: return dk * ln2_hi - ((s * (f - R) - dk * ln2_lo) - f);
      (f64x2.sub
        (f64x2.mul (local.get $dk) (global.get $ln2_hi_x2))
        (f64x2.sub
          (f64x2.sub
            (f64x2.mul (local.get $s) (f64x2.sub (local.get $f) (local.get $R)))
            (f64x2.mul (local.get $dk) (global.get $ln2_lo_x2)))
          (local.get $f)))
      ;; i = hx - 0x6147A; j = 0x6B851 - hx; i |= j; if (i > 0)
      (i64x2.gt_s
        (v128.or
          (i64x2.sub (local.get $hx) (global.get $i64_6147A))
          (i64x2.sub (global.get $i64_6B851) (local.get $hx)))
        (v128.const i64x2 0 0)))
    ;; rare: if ((0x000FFFFF & (2 + hx)) < 3) { /* -2**-20 <= f < 2**-20 */
    (i64x2.lt_s
      (v128.and (i64x2.add (local.get $hx) (global.get $i64_d2)) (global.get $i64_FFFFF))
      (global.get $i64_d3)))

  ;; cos(θ) and sin(θ) on two lanes, 0 < θ < 2π; returns the cosines, the sines and a mask of the
  ;; lanes to redo with $sincos: those whose high word is below 0x3E400000 (θ < 2^-27: the
  ;; kernels' tiny branches) or is that of π/2 (rem_pio2's 33+33+53-bit branch) or of π, 3π/2
  ;; or 2π (npio2_hw[n - 1]: rem_pio2's cancellation path), about 1.3 in 10^6 words; every θ
  ;; whose reduced argument is below 2^-27 lies inside those high words.
  ;; Elsewhere, fdlibm's branches become per-lane choices:
  ;; - θ <= π/4 (high word <= 0x3FE921FB): no reduction, y = (θ, 0), n = 0, and sin's kernel
  ;;   with iy = 0;
  ;; - π/4 < θ < 3π/4 takes rem_pio2's n = ±1 branch, which for x > 0 is its medium branch's
  ;;   arithmetic with fn = 1 (fn * pio2_1 = pio2_1, fn * pio2_1t = pio2_1t exactly), and there
  ;;   trunc(θ·invpio2 + 0.5) = 1; so one formula serves every θ > π/4;
  ;; - __kernel_cos's |x| < 0.3 formula is its other formula with qx = 0 (1 - 0 and
  ;;   0.5z - 0 are exact);
  ;; - switch (n & 3) is a swap of (sin, cos) ↦ (cos, −sin) for odd n and a sign flip for n & 2.
  (func $sincos2 (param $x v128) (result v128 v128 v128)
    (local $ix v128) (local $small v128) (local $fn v128) (local $r v128) (local $w v128)
    (local $y0 v128) (local $y1 v128) (local $n v128) (local $z v128) (local $v v128)
    (local $iy v128) (local $qx v128) (local $S v128) (local $C v128) (local $swap v128) (local $neg v128)
    ;; GET_HIGH_WORD(ix, x); (x > 0)
    (local.set $ix (i64x2.shr_u (local.get $x) (i32.const 32)))
    ;; sin, cos: if (ix <= 0x3FE921FB) → __kernel_sin(x, 0, 0), __kernel_cos(x, 0)
    (local.set $small (i64x2.le_s (local.get $ix) (global.get $i64_3FE921FB)))
    ;; rem_pio2: n = static_cast<int32_t>(t * invpio2 + half); fn = static_cast<double>(n); (t = x)
    (local.set $fn (f64x2.trunc (f64x2.add
      (f64x2.mul (local.get $x) (global.get $invpio2_x2))
      (global.get $half_x2))))
    ;; r = t - fn * pio2_1;
    (local.set $r (f64x2.sub (local.get $x) (f64x2.mul (local.get $fn) (global.get $pio2_1_x2))))
    ;; w = fn * pio2_1t;
    (local.set $w (f64x2.mul (local.get $fn) (global.get $pio2_1t_x2)))
    ;; y[0] = r - w; /* quick check no cancellation */
    (local.set $y0 (f64x2.sub (local.get $r) (local.get $w)))
    ;; y[1] = (r - y[0]) - w;
    (local.set $y1 (f64x2.sub (f64x2.sub (local.get $r) (local.get $y0)) (local.get $w)))
    ;; small lanes: y = (x, 0), n = 0
    (local.set $y0 (v128.bitselect (local.get $x) (local.get $y0) (local.get $small)))
    (local.set $y1 (v128.andnot (local.get $y1) (local.get $small)))
    ;; n in the low bits of each lane (fn + 2^52 is exact, with n in its low mantissa bits)
    (local.set $n (v128.andnot (f64x2.add (local.get $fn) (global.get $two52_x2)) (local.get $small)))
    ;; __kernel_sin: z = x * x; v = z * x; r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
    (local.set $z (f64x2.mul (local.get $y0) (local.get $y0)))
    (local.set $v (f64x2.mul (local.get $z) (local.get $y0)))
    (local.set $r (f64x2.add (global.get $S2_x2) (f64x2.mul (local.get $z)
      (f64x2.add (global.get $S3_x2) (f64x2.mul (local.get $z)
        (f64x2.add (global.get $S4_x2) (f64x2.mul (local.get $z)
          (f64x2.add (global.get $S5_x2) (f64x2.mul (local.get $z) (global.get $S6_x2))))))))))
    (local.set $S (v128.bitselect
      ;; iy == 0: return x + v * (S1 + z * r);
      (f64x2.add (local.get $y0) (f64x2.mul (local.get $v)
        (f64x2.add (global.get $S1_x2) (f64x2.mul (local.get $z) (local.get $r)))))
      ;; else: return x - ((z * (half * y - v * r) - y) - v * S1);
      (f64x2.sub (local.get $y0)
        (f64x2.sub
          (f64x2.sub
            (f64x2.mul (local.get $z) (f64x2.sub (f64x2.mul (global.get $half_x2) (local.get $y1)) (f64x2.mul (local.get $v) (local.get $r))))
            (local.get $y1))
          (f64x2.mul (local.get $v) (global.get $S1_x2))))
      (local.get $small)))
    ;; __kernel_cos: ix = |x|'s high word; r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
    (local.set $iy (v128.and (i64x2.shr_u (local.get $y0) (i32.const 32)) (global.get $i64_7FFFFFFF)))
    (local.set $r (f64x2.mul (local.get $z)
      (f64x2.add (global.get $C1_x2) (f64x2.mul (local.get $z)
        (f64x2.add (global.get $C2_x2) (f64x2.mul (local.get $z)
          (f64x2.add (global.get $C3_x2) (f64x2.mul (local.get $z)
            (f64x2.add (global.get $C4_x2) (f64x2.mul (local.get $z)
              (f64x2.add (global.get $C5_x2) (f64x2.mul (local.get $z) (global.get $C6_x2)))))))))))))
    ;; qx = 0.28125 if ix > 0x3FE90000, else INSERT_WORDS(qx, ix - 0x00200000, 0); and 0 if ix < 0x3FD33333
    (local.set $qx (v128.andnot
      (v128.bitselect
        (global.get $q_0_28125_x2)
        (i64x2.shl (i64x2.sub (local.get $iy) (global.get $i64_200000)) (i32.const 32))
        (i64x2.gt_s (local.get $iy) (global.get $i64_3FE90000)))
      (i64x2.lt_s (local.get $iy) (global.get $i64_3FD33333))))
    ;; iz = 0.5 * z - qx; a = one - qx; return a - (iz - (z * r - x * y));
    (local.set $C (f64x2.sub
      (f64x2.sub (global.get $one_x2) (local.get $qx))
      (f64x2.sub
        (f64x2.sub (f64x2.mul (global.get $half_x2) (local.get $z)) (local.get $qx))
        (f64x2.sub (f64x2.mul (local.get $z) (local.get $r)) (f64x2.mul (local.get $y0) (local.get $y1))))))
    ;; switch (n & 3): sin S, C, -S, -C; cos C, -S, -C, S
    (local.set $swap (v128.not (i64x2.eq (v128.and (local.get $n) (global.get $i64_d1)) (v128.const i64x2 0 0))))
    (local.set $neg (i64x2.shl (v128.and (local.get $n) (global.get $i64_d2)) (i32.const 62)))
    (v128.xor (v128.bitselect (f64x2.neg (local.get $S)) (local.get $C) (local.get $swap)) (local.get $neg))
    (v128.xor (v128.bitselect (local.get $C) (local.get $S) (local.get $swap)) (local.get $neg))
    ;; the lanes to redo
    (v128.or
      (v128.or
        (i64x2.lt_s (local.get $ix) (global.get $i64_3E400000))
        (i64x2.eq (local.get $ix) (global.get $i64_3FF921FB)))
      (v128.or
        (v128.or
          (i64x2.eq (local.get $ix) (global.get $i64_400921FB))
          (i64x2.eq (local.get $ix) (global.get $i64_4012D97C)))
        (i64x2.eq (local.get $ix) (global.get $i64_401921FB)))))

  ;; boxMuller(words, out, count, float32): Box–Muller on the `count` words (even) from byte
  ;; `words` on, pair (w0, w1) → r·cos θ, r·sin θ with r = √(−2 ln((w0 + 0.5)/2^32)),
  ;; θ = (2π)·((w1 + 0.5)/2^32), from byte `out` on: float32 (each value rounded to nearest once)
  ;; when `float32` is non-zero, else float64.
  (func $boxMuller (export "boxMuller") (param $words i32) (param $out i32) (param $count i32) (param $float32 i32)
    (local $end i32) (local $radius f64) (local $c f64) (local $s f64)
    (local.set $end (i32.add (local.get $words) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $words) (local.get $end)))
        ;; radius = Math.sqrt(-2 * Math.log((w0 + 0.5) / 2^32))
        (local.set $radius (f64.sqrt (f64.mul (f64.const -2)
          (call $log (f64.mul (f64.add (f64.convert_i32_u (i32.load (local.get $words))) (f64.const 0.5)) (f64.const 0x1p-32))))))
        ;; angle = 2 * Math.PI * ((w1 + 0.5) / 2^32)
        (call $sincos (f64.mul (f64.const 0x1.921fb54442d18p+2)
          (f64.mul (f64.add (f64.convert_i32_u (i32.load offset=4 (local.get $words))) (f64.const 0.5)) (f64.const 0x1p-32))))
        (local.set $s)
        (local.set $c)
        (if (local.get $float32)
          (then
            (f32.store (local.get $out) (f32.demote_f64 (f64.mul (local.get $radius) (local.get $c))))
            (f32.store offset=4 (local.get $out) (f32.demote_f64 (f64.mul (local.get $radius) (local.get $s))))
            (local.set $out (i32.add (local.get $out) (i32.const 8))))
          (else
            (f64.store (local.get $out) (f64.mul (local.get $radius) (local.get $c)))
            (f64.store offset=8 (local.get $out) (f64.mul (local.get $radius) (local.get $s)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))))
        (local.set $words (i32.add (local.get $words) (i32.const 8)))
        (br $pair))))

  ;; boxMullerBlocks(words, out, count, float32): $boxMuller for `count` a multiple of 4, two
  ;; pairs (one Philox block) per step on two lanes: lane 0 the pair (w0, w1), lane 1 (w2, w3).
  (func $boxMullerBlocks (param $words i32) (param $out i32) (param $count i32) (param $float32 i32)
    (local $end i32) (local $block v128) (local $log v128) (local $rareLog v128) (local $cos v128) (local $sin v128)
    (local $rareTrig v128) (local $radius v128) (local $rc v128) (local $rs v128)
    (local.set $end (i32.add (local.get $words) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $words) (local.get $end)))
        (local.set $block (v128.load (local.get $words)))
        ;; log((w0 + 0.5) / 2^32), log((w2 + 0.5) / 2^32)
        (call $log2 (f64x2.mul
          (f64x2.add (f64x2.convert_low_i32x4_u (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $block) (local.get $block))) (global.get $half_x2))
          (global.get $two_m32_x2)))
        (local.set $rareLog)
        (local.set $log)
        ;; cos and sin of 2 * Math.PI * ((w1 + 0.5) / 2^32) and of w3's
        (call $sincos2 (f64x2.mul (global.get $two_pi_x2) (f64x2.mul
          (f64x2.add (f64x2.convert_low_i32x4_u (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $block) (local.get $block))) (global.get $half_x2))
          (global.get $two_m32_x2))))
        (local.set $rareTrig)
        (local.set $sin)
        (local.set $cos)
        ;; a rare lane: both pairs with the scalar functions
        (if (v128.any_true (v128.or (local.get $rareLog) (local.get $rareTrig)))
          (then (call $boxMuller (local.get $words) (local.get $out) (i32.const 4) (local.get $float32)))
          (else
            ;; radius = Math.sqrt(-2 * log); r·cos θ, r·sin θ
            (local.set $radius (f64x2.sqrt (f64x2.mul (global.get $minus_two_x2) (local.get $log))))
            (local.set $rc (f64x2.mul (local.get $radius) (local.get $cos)))
            (local.set $rs (f64x2.mul (local.get $radius) (local.get $sin)))
            (if (local.get $float32)
              (then
                ;; r0 cos θ0, r0 sin θ0, r1 cos θ1, r1 sin θ1, each rounded to float32 once
                (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $rc) (local.get $rs)))
                  (f32x4.demote_f64x2_zero (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $rc) (local.get $rs))))))
              (else
                (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $rc) (local.get $rs)))
                (v128.store offset=16 (local.get $out) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $rc) (local.get $rs)))))))
        (local.set $out (i32.add (local.get $out) (select (i32.const 16) (i32.const 32) (local.get $float32))))
        (local.set $words (i32.add (local.get $words) (i32.const 16)))
        (br $step))))

  ;; normals(n, lo, hi, c2, c3, k0, k1, float32): the n blocks of `blocks` (words from byte 0 on),
  ;; then their 4·n normals (Box–Muller on consecutive word pairs) from byte 65536 on.
  (func (export "normals") (param $n i32) (param $lo i32) (param $hi i32) (param $c2 i32) (param $c3 i32) (param $k0 i32) (param $k1 i32) (param $float32 i32)
    (call $blocksSimd (i32.const 0) (local.get $n) (local.get $lo) (local.get $hi) (local.get $c2) (local.get $c3) (local.get $k0) (local.get $k1))
    (call $boxMullerBlocks (i32.const 0) (i32.const 65536) (i32.shl (local.get $n) (i32.const 2)) (local.get $float32)))

  ;; Test-only exports, for comparison with Math.log / Math.cos / Math.sin.
  ;; testKernels(count): for each of the `count` words w (even, at most 4096) from byte 0 on,
  ;; log((w + 0.5)/2^32), cos θ and sin θ for θ = (2π)·((w + 0.5)/2^32) as the bulk computes them
  ;; ($log2 and $sincos2 on the lanes (w, w'), just the flagged lanes by $log and $sincos; the bulk
  ;; redoes a whole block when a lane is flagged), into float64
  ;; arrays from bytes 65536 (log), 98304 (cos) and 131072 (sin) on.
  (func (export "testKernels") (param $count i32)
    (local $p i32) (local $end i32) (local $u v128) (local $theta v128) (local $log v128)
    (local $cos v128) (local $sin v128) (local $rare v128) (local $c f64) (local $s f64)
    (local.set $end (i32.shl (local.get $count) (i32.const 2)))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $u (f64x2.mul
          (f64x2.add (f64x2.convert_low_i32x4_u (v128.load64_zero (local.get $p))) (global.get $half_x2))
          (global.get $two_m32_x2)))
        (local.set $theta (f64x2.mul (global.get $two_pi_x2) (local.get $u)))
        (call $log2 (local.get $u))
        (local.set $rare)
        (local.set $log)
        ;; only the flagged lanes: every other lane's two-lane value is what gets compared
        (if (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $rare)))
          (then (local.set $log (f64x2.replace_lane 0 (local.get $log) (call $log (f64x2.extract_lane 0 (local.get $u)))))))
        (if (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $rare)))
          (then (local.set $log (f64x2.replace_lane 1 (local.get $log) (call $log (f64x2.extract_lane 1 (local.get $u)))))))
        (call $sincos2 (local.get $theta))
        (local.set $rare)
        (local.set $sin)
        (local.set $cos)
        (if (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $rare)))
          (then
            (call $sincos (f64x2.extract_lane 0 (local.get $theta)))
            (local.set $s)
            (local.set $c)
            (local.set $cos (f64x2.replace_lane 0 (local.get $cos) (local.get $c)))
            (local.set $sin (f64x2.replace_lane 0 (local.get $sin) (local.get $s)))))
        (if (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $rare)))
          (then
            (call $sincos (f64x2.extract_lane 1 (local.get $theta)))
            (local.set $s)
            (local.set $c)
            (local.set $cos (f64x2.replace_lane 1 (local.get $cos) (local.get $c)))
            (local.set $sin (f64x2.replace_lane 1 (local.get $sin) (local.get $s)))))
        (v128.store offset=65536 (i32.shl (local.get $p) (i32.const 1)) (local.get $log))
        (v128.store offset=98304 (i32.shl (local.get $p) (i32.const 1)) (local.get $cos))
        (v128.store offset=131072 (i32.shl (local.get $p) (i32.const 1)) (local.get $sin))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $pair))))

  ;; testLog, testCos, testSin: the scalar ports, one value per call.
  (func (export "testLog") (param $x f64) (result f64)
    (call $log (local.get $x)))
  (func (export "testCos") (param $x f64) (result f64)
    (call $sincos (local.get $x))
    (drop))
  (func (export "testSin") (param $x f64) (result f64)
    (local $s f64)
    (call $sincos (local.get $x))
    (local.set $s)
    (drop)
    (local.get $s)))
