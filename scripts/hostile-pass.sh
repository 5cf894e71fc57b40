#!/usr/bin/env bash
# A scripted hostile pass over every command of rivers but balance (which only builds the data).
#
#   scripts/hostile-pass.sh [path/to/rivers]        (default .build/release/rivers)
#
# Builds its own tiny data in a fresh `mktemp -d` folder (removed at the end; HOSTILE_KEEP=1 keeps it),
# then runs a few hundred cases: every numeric option at 0, negative, 2^63-1, 1e308, NaN, inf and a
# non-number (as a flag and through --config FILE), a run's config.json edited with python's json
# module, corrupt checkpoints, log.csv, final_images.json and config files, symbolic links in and
# out, clashing names, kill -9 / SIGINT / SIGTERM at odd moments followed by the printed (or
# documented) rerun, and a full disk (a 2 MB tmpfs; skipped when mount is not permitted).
#
# Every case checks the invariants:
#   1. no signal: status < 128 except 130/143 after an interrupt the script sent; no crash text on stderr
#   2. the inputs are never written (md5 of every file of the input trees before and after)
#   3. no silent loss: expected files exist, printed counts match the disk (augment's table vs ls)
#   4. no unfinished run after the printed rerun
#   5. errors are one line on stderr naming the file or option; status 2 for a bad option or
#      setting, 1 for a bad file
#   6. no leftover .*.tmp or .claim_* files after a successful (re)run
# and prints one line per failing case, `FAIL <id>: <command> -> <what happened>`, then exactly one
# summary line `N passed, M failed[, K skipped]`. The exit status is 1 when a case failed.
set -u
export LC_ALL=C

R=${1:-.build/release/rivers}
if [ ! -x "$R" ]; then echo "hostile-pass: $R is not an executable rivers binary" >&2; exit 2; fi
R=$(cd "$(dirname "$R")" && pwd)/$(basename "$R")
TO=${HOSTILE_TIMEOUT:-120}          # every command gets at most this many seconds: a hang is a failure
W=$(mktemp -d "${TMPDIR:-/tmp}/rivers-hostile.XXXXXX")
START=$SECONDS
PASSN=0; FAILN=0; SKIPN=0
BGPID=""
FULL=""

cleanup() {
    [ -n "$BGPID" ] && kill -9 "$BGPID" 2>/dev/null
    [ -n "${BGWRAP:-}" ] && wait "$BGWRAP" 2>/dev/null
    if [ -n "$FULL" ]; then umount "$FULL" 2>/dev/null || umount -l "$FULL" 2>/dev/null; fi
    if [ "${HOSTILE_KEEP:-0}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$W/in" "$W/c" "$W/tools"
cd "$W" || exit 2

# ---------------------------------------------------------------- python helpers
cat > tools/cfg.py <<'EOF'
# cfg.py FILE 'python statements on d' : edit a JSON file with python's json module
import json, sys
f = sys.argv[1]
d = json.load(open(f))
exec(sys.argv[2])
json.dump(d, open(f, 'w'), indent=1)
EOF
cat > tools/st.py <<'EOF'
# st.py FILE PREFIXES VALUE : set every float of the tensors whose names start with one of the
# comma-separated PREFIXES ('all' for every tensor) to VALUE (float32; 'nanbits' = 0x7FFFFFFF)
import json, struct, sys
f, prefs, val = sys.argv[1], sys.argv[2].split(','), sys.argv[3]
b = bytearray(open(f, 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n]); base = 8 + n
v = struct.pack('<I', 0x7fffffff) if val == 'nanbits' else struct.pack('<f', float(val))
hit = 0
for k, t in h.items():
    if k == '__metadata__' or (prefs != ['all'] and not any(k.startswith(p) for p in prefs)):
        continue
    s, e = t['data_offsets']
    for o in range(base + s, base + e, 4):
        b[o:o + 4] = v
    hit += 1
if hit == 0:
    sys.exit('st.py: no tensor starts with %s' % prefs)
open(f, 'wb').write(b)
EOF
cat > tools/png.py <<'EOF'
# png.py FILE W H KIND : a mask (KIND=mask: black where W/3 < x < 2W/3, white elsewhere; white; black)
# or a gradient picture (KIND=picture)
import struct, sys, zlib
path, w, h, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def px(x, y):
    if kind == 'mask': return 0 if w // 3 < x < 2 * w // 3 else 255
    if kind == 'white': return 255
    if kind == 'black': return 0
    return (x * 7 + y * 3) % 256
raw = b''.join(b'\x00' + bytes(v for x in range(w) for v in [px(x, y)] * 3) for y in range(h))
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                       + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
EOF
cat > tools/augcheck.py <<'EOF'
# augcheck.py OUT STDOUT : augment's printed table against the files on disk; prints one problem a line
import os, re, sys
out, text = sys.argv[1], open(sys.argv[2], errors='replace').read()
lab, cat = {}, {}
for line in text.splitlines():
    m = re.match(r'^\s*([12])\s+([1-6])\s+all\s+(\d+)\s+(\d+)\s+(\d+)\s*$', line)
    if m: lab[int(m.group(2))] = (int(m.group(1)), int(m.group(5)))
    m = re.match(r'^\s*([12])\s+all\s+(\d+)\s+(\d+)\s+(\d+)\s*$', line)
    if m: cat[int(m.group(1))] = int(m.group(4))
def disk(l):
    d = os.path.join(out, str(l))
    if not os.path.isdir(d): return 0
    return sum(1 for f in os.listdir(d) if not f.startswith('.') and re.search(r'\.(jpe?g|png)$', f, re.I))
if not lab: print('no per-label table printed'); sys.exit()
dc = {1: 0, 2: 0}
for l in range(1, 7):
    n = disk(l)
    dc[1 if l <= 3 else 2] += n
    if l in lab and lab[l][1] != n: print('label %d: table says %d, disk has %d' % (l, lab[l][1], n))
    if l not in lab and n: print('label %d: %d files on disk, not in the table' % (l, n))
if cat.get(1) != cat.get(2): print('categories differ in the table: %s against %s' % (cat.get(1), cat.get(2)))
if dc[1] != dc[2]: print('categories differ on disk: %d against %d' % (dc[1], dc[2]))
EOF

# ---------------------------------------------------------------- case machinery
CID=""; CCMD=""; CD=""; CFAIL=(); RC=0; PROT=(); BASE=""

snap() { # md5 of every file of the protected input trees (names included, so a new file shows)
    (cd "$W/in" && find . -type f -print0 | sort -z | xargs -0 -r md5sum)
}
disp() { local s="$*"; s=${s//"$R"/rivers}; s=${s//"$W"/W}; printf '%s' "$s" | tr '\n' ' ' | cut -c1-400; }
errline() { [ -s "$CD/err" ] && printf ' ("%s")' "$(grep -av '^note:' "$CD/err" | grep -am1 . | tr -cd '[:print:]' | cut -c1-220)"; }
fail() { CFAIL+=("$*"); }

begin() { # begin ID [display command]
    CID=$1; CCMD=${2:-}; CFAIL=(); PROT=(); CD="$W/c/$CID"; CRASHED=0
    rm -rf "$CD"; mkdir -p "$CD"; : > "$CD/err"; : > "$CD/out"
}
protect() { # protect DIR: a case-local input that must come out unchanged
    local i=${#PROT[@]}
    PROT+=("$1")
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r md5sum) > "$CD/.prot$i"
}
end() {
    local now i
    now=$(snap)
    if [ "$now" != "$BASE" ]; then
        fail "an input file was written: $(diff <(echo "$BASE") <(echo "$now") | grep '^[<>]' | head -3 | tr '\n' ' ' | cut -c1-300)"
        BASE=$now
    fi
    for i in "${!PROT[@]}"; do
        if ! diff -q "$CD/.prot$i" <(cd "${PROT[$i]}" && find . -type f -print0 | sort -z | xargs -0 -r md5sum) > /dev/null; then
            fail "input ${PROT[$i]//"$W"/W} was written: $(diff "$CD/.prot$i" <(cd "${PROT[$i]}" && find . -type f -print0 | sort -z | xargs -0 -r md5sum) | grep '^[<>]' | head -2 | tr '\n' ' ' | cut -c1-240)"
        fi
    done
    if ((${#CFAIL[@]})); then
        FAILN=$((FAILN + 1))
        local IFS=';'
        echo "FAIL $CID: $(disp "$CCMD") -> $(disp "${CFAIL[*]}")"
    else
        PASSN=$((PASSN + 1))
    fi
    [ "${HOSTILE_KEEP:-0}" = 1 ] || rm -rf "$CD"
}
skip() { SKIPN=$((SKIPN + 1)); echo "SKIP $1: $2"; }

chk_sig() { # invariant 1, for the status in RC; $1: statuses allowed after a signal we sent
    local allow=" ${1:-} "
    CRASHED=1
    if [ "$RC" -eq 124 ]; then fail "no result within ${TO}s (hang), killed"
    elif [ "$RC" -ge 128 ] && [[ $allow != *" $RC "* ]]; then fail "status $RC (signal $((RC - 128)))$(grep -m1 -E 'runtime failure|Fatal error|Program crashed' "$CD/err" | sed 's/^/: /' | cut -c1-200)"
    elif grep -qE 'Fatal error|Program crashed|Swift runtime failure|Backtracing' "$CD/err"; then fail "crash text on stderr: $(grep -m1 -E 'Fatal error|Program crashed|Swift runtime failure|Backtracing' "$CD/err" | cut -c1-200)"
    else CRASHED=0
    fi
}
x() { # x [-s "130 143"] CMD...: run in the foreground with a timeout
    local allow=""
    if [ "$1" = -s ]; then allow=$2; shift 2; fi
    [ -z "$CCMD" ] && CCMD="$*"
    # (the subshell keeps bash's "Illegal instruction" job notices off the terminal; the case reports them)
    ( timeout -k 5 "$TO" "$@" > "$CD/out" 2> "$CD/err" < /dev/null; exit $? ) 2>/dev/null
    RC=$?
    { echo "\$ $*"; cat "$CD/out" "$CD/err"; echo "status $RC"; } >> "$CD/all.log"
    chk_sig "$allow"
}
bgstart() { # start CMD in the background; BGPID is rivers itself, so a signal reaches it directly
    [ -z "$CCMD" ] && CCMD="$*"
    rm -f "$CD/.pid" "$CD/.rc"
    # the subshell reports the status in .rc and keeps bash's "Killed" job notices off the terminal
    ( "$@" > "$CD/out" 2> "$CD/err" < /dev/null & echo $! > "$CD/.pid"; wait $!; echo $? > "$CD/.rc" ) 2>/dev/null &
    BGWRAP=$!
    while [ ! -s "$CD/.pid" ]; do sleep 0.01; done
    BGPID=$(cat "$CD/.pid")
}
waitcond() { # waitcond SECONDS 'condition': 0 when met with the process alive, 2 when it ended first
    local end=$((SECONDS + $1))
    while ! eval "$2"; do
        kill -0 "$BGPID" 2>/dev/null || return 2
        ((SECONDS >= end)) && return 1
        sleep 0.05
    done
    kill -0 "$BGPID" 2>/dev/null || return 2
    return 0
}
bgwait() { # bgwait "allowed statuses": wait for the background process (at most TO s), check it
    local end=$((SECONDS + TO))
    while kill -0 "$BGPID" 2>/dev/null; do
        if ((SECONDS >= end)); then kill -9 "$BGPID"; fail "did not stop within ${TO}s (hang)"; break; fi
        sleep 0.05
    done
    wait "$BGWRAP" 2>/dev/null
    RC=$(cat "$CD/.rc" 2>/dev/null || echo 255)
    BGPID=""
    { echo "\$ (background) $CCMD"; cat "$CD/out" "$CD/err"; echo "status $RC"; } >> "$CD/all.log"
    chk_sig "$1"
}
# after a crash or hang the status and message checks would only repeat it
exp_rc() { [ "$CRASHED" = 1 ] && return; [[ " $* " == *" $RC "* ]] || fail "status $RC, expected $(echo "$*" | sed 's/ / or /g')$(errline)"; }
exp_err1() { # exactly one error line on stderr (notes aside), naming every PATTERN given
    local n p
    [ "$CRASHED" = 1 ] && return
    n=$(grep -av '^note:' "$CD/err" | grep -ac .)
    [ "$n" -eq 1 ] || fail "stderr has $n lines, expected one error line$(errline)"
    for p; do grep -aqF -- "$p" "$CD/err" || fail "the error does not name '$p'$(errline)"; done
}
bad_opt() { exp_rc 2; exp_err1 "$@"; }
bad_file() { exp_rc 1; exp_err1 "$@"; }
bad_any() { exp_rc 1 2; exp_err1 "$@"; }
ok() { exp_rc 0; }
nothing_in() { # nothing_in DIR: refused before any work
    if [ -e "$1" ] && [ -n "$(find "$1" -mindepth 1 2>/dev/null | head -1)" ]; then
        local how="left"; [ "$RC" -ne 0 ] && how="status $RC, but only after writing"
        fail "$how $(find "$1" -mindepth 1 | wc -l) entries in ${1//"$W"/W} ($(find "$1" -mindepth 1 | head -2 | sed "s|$W|W|g" | tr '\n' ' '))"
    fi
}
count() { find "$1" -maxdepth 1 -type f -regextype posix-extended -iregex "${2:-.*\.(jpe?g|png)}" ! -name '.*' 2>/dev/null | wc -l; }
exp_count() { # exp_count DIR N [REGEX]
    local n; n=$(count "$1" "${3:-}")
    [ "$n" -eq "$2" ] || fail "${1//"$W"/W} holds $n images, expected $2"
}
noleft() { # invariant 6
    local l; l=$(find "$@" \( -name '.*.tmp' -o -name '.claim_*' \) 2>/dev/null | head -3 | sed "s|$W|W|g" | tr '\n' ' ')
    [ -z "$l" ] || fail "leftover temporaries/claims after a successful run: $l"
}
logrows() { [ -f "$1/log.csv" ] && tail -n +2 "$1/log.csv" | grep -c . || echo 0; }
run_done() { # run_done RUN EPOCHS IMAGES: invariant 4, a finished run
    local r=$1 rows epochs
    [ -d "$r" ] || { fail "no run directory"; return; }
    rows=$(logrows "$r")
    epochs=$(tail -n +2 "$r/log.csv" 2>/dev/null | cut -d, -f1 | sort -n | uniq | tr '\n' ' ')
    [ "$rows" -eq "$2" ] || fail "${r//"$W"/W}/log.csv has $rows rows, expected $2"
    [ "$epochs" = "$(seq -s ' ' 1 "$2") " ] || fail "${r//"$W"/W}/log.csv epochs are '$epochs', expected 1..$2 once each"
    exp_count "$r/generated_images" "$3"
    [ -f "$r/last.safetensors" ] || fail "no last.safetensors"
    noleft "$r"
}
onerun() { ls -d "$1"/L*_* 2>/dev/null | head -1; }
printed_cmd() { # the command after "resume with:" or "finish with:" in stdout, rivers -> $R
    local line
    line=$(grep -hE '^(resume with|finish with): ' "$CD/out" | tail -1 | sed 's/^[^:]*: //')
    [ -n "$line" ] && echo "$R${line#rivers}"
}
augcheck() { # invariant 3 for augment
    local p; p=$(python3 "$W/tools/augcheck.py" "$1" "$CD/out" 2>&1 | head -4 | tr '\n' ';')
    [ -z "$p" ] || fail "augment's counts: $p"
}
without() { # without OPT ARGS...: ARGS minus --OPT and its values -> WO
    local opt=$1; shift; WO=()
    while (($#)); do
        if [ "$1" = "--$opt" ]; then shift; while (($#)) && [[ $1 != --* ]]; do shift; done; continue; fi
        WO+=("$1"); shift
    done
}

# ---------------------------------------------------------------- the data (setup; not cases)
RAW=$W/in/wd/raw; DD=$W/in/wd/diffusion_data; MODELS=$W/in/models; IMG=$W/in/img; MSK=$W/in/msk
TINY=(--image_size 16 48 --widths 8 16 --block_depth 1 --embedding_dims 16 --batch_size 2 --num_epochs 2 --quiet)
T1=(--image_size 16 48 --widths 8 16 --block_depth 1 --embedding_dims 16 --batch_size 2 --num_epochs 1
    --images_to_generate 1 --generate_diffusion_steps 2 --quiet)
setup_fail() { echo "hostile-pass: setup failed: $*" >&2; cat "$W/setup.log" >&2; exit 2; }
{
    "$R" synthesize --out_dir "$RAW" --labels 6 --image_size 16 48 || setup_fail synthesize
    "$R" balance --in_dir "$RAW" --out_dir "$W/in/wd" --labels 6 --quiet || setup_fail balance
    "$R" train-all --in_dir "$DD" --out_dir "$MODELS" "${TINY[@]}" || setup_fail train-all
    mkdir -p "$IMG" "$MSK"
    cp "$RAW"/1/S1_D010125_010125_0_1_X.JPG "$RAW"/1/S1_D010125_010125_0_2_X.JPG "$IMG"/
    python3 tools/png.py "$MSK/S1_D010125_010125_0_1_X.png" 48 16 mask
    python3 tools/png.py "$MSK/S1_D010125_010125_0_2_X.png" 48 16 mask
} > "$W/setup.log" 2>&1
for i in 1 2 3 4 5 6; do eval "RUN$i=\$(ls -d \"\$MODELS\"/L${i}_* | head -1)"; done
RUNS=("$RUN1" "$RUN2" "$RUN3" "$RUN4" "$RUN5" "$RUN6")
[ -d "$RUN6" ] || setup_fail "no run of label 6"
NRAW=$(find "$RAW" -type f | wc -l)
TODAY=$(date -u +%m%d%y)
BASE=$(snap)
echo "hostile pass of $R in $W (W below); inputs: W/in/wd/raw ($NRAW photos), W/in/wd/diffusion_data, W/in/models (6 runs), W/in/img, W/in/msk"

V=(0 -1 9223372036854775807 1e308 nan inf abc)

# ================================================================ 1. every numeric flag
# mflag CMD OPT VALID [POS]: the seven values of V; VALID lists the values inside the option's range
mflag() {
    local cmd=$1 opt=$2 valid=" $3 " pos=${4:-} v args
    for v in "${V[@]}"; do
        begin "flag-$cmd-$opt${pos:+.$pos}=$v"
        case $opt in
            image_size) if [ "$pos" = h ]; then args=(--image_size "$v" 48); else args=(--image_size 16 "$v"); fi ;;
            widths) args=(--widths 8 "$v") ;;
            strength) args=(--strength "$v" --probs 1) ;;
            probs) args=(--strength 1 --probs "$v") ;;
            *) args=("--$opt" "$v") ;;
        esac
        case $cmd in
            train) without "$opt" "${T1[@]}"; x "$R" train --in_dir "$DD/L1" --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            train-all) without "$opt" "${T1[@]}"; x "$R" train-all --in_dir "$DD" --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            infer) without "$opt" --images_to_generate 2 --generate_diffusion_steps 2 --quiet
                   x "$R" infer --model_dir "$RUN1" --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            augment) without "$opt" --generate_diffusion_steps 2 --quiet
                     x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            inpaint) without "$opt" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
                     x "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            synthesize) without "$opt" --labels 6 --image_size 16 48
                        x "$R" synthesize --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
            demo) without "$opt" --quick --steps 2 --quiet; x "$R" demo --out_dir "$CD/o" "${WO[@]}" "${args[@]}" ;;
        esac
        if [[ $valid == *" $v "* ]]; then
            ok
            case $cmd in
                train) local n=1; [ "$opt" = images_to_generate ] && n=$v; run_done "$(onerun "$CD/o")" 1 "$n" ;;
                train-all) local k; for k in 1 2 3 4 5 6; do run_done "$(ls -d "$CD"/o/L${k}_* | head -1)" 1 1; done ;;
                infer) exp_count "$CD/o" 2 '.*\.jpg'; noleft "$CD/o" ;;
                augment) augcheck "$CD/o"; noleft "$CD/o" ;;
                inpaint) exp_count "$CD/o" 2 '.*_INPAINT\.jpg'; noleft "$CD/o" ;;
                synthesize) [ "$(find "$CD/o" -type f | wc -l)" -eq 40 ] || fail "$(find "$CD/o" -type f | wc -l) images, expected 40" ;;
                demo) [ -f "$CD/o/report.html" ] || fail "no report.html" ;;
            esac
        else
            bad_opt "--$opt"
            nothing_in "$CD/o"
        fi
        end
    done
}
for o in label num_epochs batch_size learning_rate embedding_dims block_depth generate_diffusion_steps \
         min_signal_rate max_signal_rate threads widths; do mflag train "$o" ""; done
mflag train image_size "" h; mflag train image_size "" w
mflag train images_to_generate "0"
mflag train eta "0"; mflag train validation_split "0"; mflag train ema "0"; mflag train generate_on_epoch "0"; mflag train gpu_index "0"
mflag train seed "0 9223372036854775807"
for o in num_epochs batch_size threads widths; do mflag train-all "$o" ""; done
mflag train-all image_size "" w
mflag train-all seed "0 9223372036854775807"
for o in images_to_generate generate_diffusion_steps batch_size threads; do mflag infer "$o" ""; done
mflag infer eta "0"; mflag infer seed "0 9223372036854775807"
for o in strength probs generate_diffusion_steps batch_size threads; do mflag augment "$o" ""; done
mflag augment eta "0"; mflag augment seed "0 9223372036854775807"
for o in jump_length jump_n_sample generate_diffusion_steps threads; do mflag inpaint "$o" ""; done
mflag inpaint eta "0"; mflag inpaint seed "0 9223372036854775807"
mflag synthesize labels ""; mflag synthesize image_size "" h; mflag synthesize image_size "" w
mflag synthesize seed "0 9223372036854775807"
mflag demo steps ""; mflag demo threads ""; mflag demo seed "0 9223372036854775807"

# ================================================================ 2. settings through --config FILE
JV=(-1 9223372036854775807 1e308 '"abc"' null true)
# mconf SECTION KEY VALID-JSON-VALUES: the values of JV for one key
mconf() {
    local sec=$1 key=$2 valid=" $3 " v js
    for v in "${JV[@]}"; do
        begin "config-$sec.$key=$v"
        case $key in
            image_size) [ "$v" = null ] && js=null || js="[$v, 48]" ;;
            widths) [ "$v" = null ] && js=null || js="[8, $v]" ;;
            strength) js="$v, \"probs\": [1]"; [ "$v" = null ] || js="[$v], \"probs\": [1]" ;;
            probs) js="$v, \"strength\": [1]"; [ "$v" = null ] || js="[$v], \"strength\": [1]" ;;
            *) js=$v ;;
        esac
        echo "{\"$sec\": {\"$key\": $js}}" > "$CD/c.json"
        case $sec in
            train) without "$key" "${T1[@]}"; x "$R" train --in_dir "$DD/L1" --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            generate) without "$key" --images_to_generate 2 --generate_diffusion_steps 2 --quiet
                      x "$R" infer --model_dir "$RUN1" --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            augment) without "$key" --generate_diffusion_steps 2 --quiet
                     x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            inpaint) without "$key" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
                     x "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            synthesize) without "$key" --image_size 16 48; x "$R" synthesize --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            demo) without "$key" --quick --steps 2 --quiet; x "$R" demo --out_dir "$CD/o" --config "$CD/c.json" "${WO[@]}" ;;
            report) x "$R" report --model_dir "$RUN1" --out "$CD/r.html" --config "$CD/c.json" --quiet ;;
        esac
        CCMD="$CCMD   # c.json = $(cat "$CD/c.json")"
        if [ "$v" = null ] && [[ $valid != *" null "* ]] && [ "$RC" -eq 0 ]; then
            :   # README: null means "not set"; taking the default is as right as a refusal
        elif [[ $valid == *" $v "* ]]; then
            ok
            case $sec in
                train) run_done "$(onerun "$CD/o")" 1 1 ;;
                generate) noleft "$CD/o" ;;
                augment) augcheck "$CD/o"; noleft "$CD/o" ;;
                report) [ -f "$CD/r.html" ] || fail "no page" ;;
            esac
        else
            bad_opt "c.json" "$sec.$key"
            nothing_in "$CD/o"
        fi
        end
    done
}
for k in num_epochs batch_size learning_rate embedding_dims block_depth images_to_generate generate_diffusion_steps \
         eta validation_split ema min_signal_rate max_signal_rate generate_on_epoch image_size widths; do
    mconf train "$k" ""
done
mconf train seed "9223372036854775807"
for k in images_to_generate generate_diffusion_steps eta checkpoint; do mconf generate "$k" ""; done
mconf generate seed "9223372036854775807"; mconf generate batch_size "null"
for k in strength probs generate_diffusion_steps eta checkpoint; do mconf augment "$k" ""; done
mconf augment batch_size "null"
for k in jump_length jump_n_sample generate_diffusion_steps eta; do mconf inpaint "$k" ""; done
mconf synthesize labels ""; mconf synthesize image_size ""
mconf demo steps ""
mconf report title '"abc"'; mconf report label_measure "true"

# --config files that are not settings at all (a bad file: status 1 naming it; or a setting: 2)
cfgfile() { # cfgfile ID STATUSES CONTENT-WRITER [NAME...]: train --config with a strange file
    local id=$1 st=$2 writer=$3; shift 3
    begin "config-file-$id"
    eval "$writer"
    x "$R" train --in_dir "$DD/L1" --out_dir "$CD/o" --config "$CD/c.json" "${T1[@]}"
    CCMD="$CCMD   # c.json: $writer"
    exp_rc $st
    [ "$RC" -eq 0 ] || { exp_err1 "$@"; nothing_in "$CD/o"; }
    end
}
cfgfile big-number "2" "echo '{\"train\": {\"batch_size\": 1e999}}' > \$CD/c.json" c.json train.batch_size
cfgfile nan-token "1 2" "echo '{\"train\": {\"ema\": NaN}}' > \$CD/c.json" c.json
cfgfile unknown-section "2" "echo '{\"trainn\": {}}' > \$CD/c.json" c.json trainn
cfgfile section-list "2" "echo '{\"train\": [1, 2]}' > \$CD/c.json" c.json train
cfgfile section-string "2" "echo '{\"generate\": \"fast\"}' > \$CD/c.json" c.json generate
cfgfile top-number "1 2" "echo '42' > \$CD/c.json" c.json
cfgfile deep-nesting "1 2" "python3 -c \"print('{\\\"train\\\":' * 50000 + '1' + '}' * 50000)\" > \$CD/c.json" c.json
cfgfile junk "1" "head -c 4096 /dev/urandom > \$CD/c.json" c.json
cfgfile utf16 "0 1 2" "printf '\\xff\\xfe{\\x00}\\x00' > \$CD/c.json" c.json
cfgfile trailing-garbage "1 2" "echo '{\"train\": {}} }}}' > \$CD/c.json" c.json
cfgfile dir "1" "mkdir \$CD/c.json" c.json
cfgfile dangling-link "1" "ln -s \$CD/nowhere.json \$CD/c.json" c.json
cfgfile key-empty "2" "echo '{\"train\": {\"\": 1}}' > \$CD/c.json" c.json
cfgfile learning-rate-denormal "2" "echo '{\"train\": {\"learning_rate\": 4.9e-324}}' > \$CD/c.json" c.json train.learning_rate
cfgfile seed-2p64 "2" "echo '{\"train\": {\"seed\": 18446744073709551616}}' > \$CD/c.json" c.json train.seed
cfgfile widths-9-levels "2" "echo '{\"train\": {\"widths\": [8,8,8,8,8,8,8,8,8]}}' > \$CD/c.json" c.json train.widths

# ================================================================ 3. a run's config.json edited (python json)
# rcfg ID 'python on d' CMD-KIND STATUSES NAMES...: a copy X of RUN1 with config.json edited
rcfg() {
    local id=$1 py=$2 kind=$3 st=$4; shift 4
    begin "runconfig-$kind-$id"
    cp -a "$RUN1" "$CD/X"
    python3 "$W/tools/cfg.py" "$CD/X/config.json" "$py"
    case $kind in
        infer) x "$R" infer --model_dir "$CD/X" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet ;;
        resume) x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 3 --quiet ;;
        augment) x "$R" augment --in_dir "$RAW" --weight_paths "$CD/X" "$RUN2" "$RUN3" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet ;;
        inpaint) x "$R" inpaint --model_dir "$CD/X" --images "$IMG" --masks "$MSK" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet ;;
        report) x "$R" report --model_dir "$CD/X" --out "$CD/r.html" --quiet ;;
    esac
    CCMD="cp -a RUN1 X; edit X/config.json: $py; $CCMD"
    exp_rc $st
    [ "$RC" -eq 0 ] || { exp_err1 "$@"; nothing_in "$CD/o"; }
    end
}
rcfg image_size-huge 'd["train"]["image_size"]=[4611686018427387904, 48]' infer "1 2" X/config.json image_size
rcfg image_size-float 'd["train"]["image_size"]=[16.5, 48]' infer "1 2" X/config.json image_size
rcfg widths-nan 'd["train"]["widths"]=[8, float("nan")]' infer "1 2" X/config.json
rcfg widths-string 'd["train"]["widths"]="8 16"' infer "1 2" X/config.json widths
rcfg embedding-inf 'd["train"]["embedding_dims"]=float("inf")' infer "1 2" X/config.json
rcfg embedding-odd 'd["train"]["embedding_dims"]=15' infer "1 2" X/config.json embedding
rcfg block_depth-huge 'd["train"]["block_depth"]=9223372036854775807' infer "1 2" X/config.json block_depth
rcfg min_signal-neg 'd["train"]["min_signal_rate"]=-0.5' infer "1 2" X/config.json min_signal_rate
rcfg signal-swapped 'd["train"]["min_signal_rate"]=0.95; d["train"]["max_signal_rate"]=0.01' infer "1 2" X/config.json signal_rate
rcfg ema-null 'd["train"]["ema"]=None' infer "1 2" X/config.json train.ema
rcfg label-null 'd["label"]=None' infer "1 2" X/config.json label
rcfg label-string 'd["label"]="1"' infer "1 2" X/config.json label
rcfg label-7 'd["label"]=7' infer "1 2" X/config.json label
rcfg label-huge 'd["label"]=9223372036854775807' infer "1 2" X/config.json label
rcfg threads-neg 'd["threads"]=-2' infer "1 2" X/config.json threads
rcfg in_dir-number 'd["in_dir"]=5' infer "1 2" X/config.json in_dir
rcfg train-unknown-key 'd["train"]["num_epoch"]=3' infer "1 2" X/config.json num_epoch
rcfg format-future 'd["format"]="rivers-run-99"' infer "1 2" X/config.json format
rcfg train-list 'd["train"]=[1,2]' infer "1 2" X/config.json train
rcfg top-list 'd=[d]' infer "1 2" X/config.json
rcfg in_dir-missing 'd["in_dir"]="/nonexistent/L1"' infer 0
rcfg batch-huge 'd["train"]["batch_size"]=1e308' resume "1 2" X/config.json batch_size
rcfg seed-neg 'd["train"]["seed"]=-1' resume "1 2" X/config.json seed
rcfg image_size-changed 'd["train"]["image_size"]=[32, 96]' resume "1 2" X/
rcfg label-zero 'd["label"]=0' resume "1 2" X/config.json label
rcfg threads-string 'd["threads"]="two"' resume "1 2" X/config.json threads
rcfg lr-nan 'd["train"]["learning_rate"]=float("nan")' resume "1 2" X/config.json
rcfg label-4 'd["label"]=4' augment "1 2"
rcfg max_signal-one 'd["train"]["max_signal_rate"]=1.0' augment "1 2" X/config.json max_signal_rate
rcfg eta-huge 'd["train"]["eta"]=1e308' inpaint "1 2" X/config.json eta
rcfg widths-empty 'd["train"]["widths"]=[]' inpaint "1 2" X/config.json widths
rcfg report-label-9 'd["label"]=9' report "0 1 2" X
rcfg report-train-null 'd["train"]=None' report "0 1 2" X

# ================================================================ 4. corrupt checkpoints
# ckpt ID FILE PREFIXES VALUE KIND : a copy X of RUN1 whose FILE has the tensors set to VALUE
ckpt() {
    local id=$1 f=$2 pre=$3 val=$4 kind=$5 st=${6:-1}
    begin "checkpoint-$kind-$id"
    cp -a "$RUN1" "$CD/X"
    python3 "$W/tools/st.py" "$CD/X/$f" "$pre" "$val" || fail "script: st.py"
    case $kind in
        infer) local ck=best; [ "$f" = last.safetensors ] && ck=last
               x "$R" infer --model_dir "$CD/X" --checkpoint "$ck" --images_to_generate 2 --generate_diffusion_steps 3 --out_dir "$CD/o" --quiet ;;
        resume) x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 4 --quiet ;;
        augment) x "$R" augment --in_dir "$RAW" --weight_paths "$CD/X" "$RUN2" "$RUN3" --out_dir "$CD/o" --generate_diffusion_steps 3 --quiet ;;
        inpaint) x "$R" inpaint --model_dir "$CD/X" --images "$IMG" --masks "$MSK" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet ;;
    esac
    CCMD="cp -a RUN1 X; set $pre* of X/$f to $val; $CCMD"
    exp_rc $st; exp_err1 "X/$f"
    if [ "$kind" = augment ]; then
        local g; g=$(find "$CD/o" -name '*_DM_*' 2>/dev/null | wc -l)
        [ "$g" -eq 0 ] || fail "$g generated images written from a refused model"
        noleft "$CD/o"
    else
        nothing_in "$CD/o"
    fi
    end
}
ckpt ema-nanbits best.safetensors ema/ nanbits infer
ckpt ema-neg-inf best.safetensors ema/down -inf infer
ckpt ema-1e5 best.safetensors ema/ 1e5 infer
ckpt head-1e30 last.safetensors ema/head 1e30 infer
ckpt mean-1e30 best.safetensors normalizer/mean 1e30 infer
ckpt variance-inf best.safetensors normalizer/variance inf infer
ckpt weights-1e7 last.safetensors weights/ 1e7 resume
ckpt adam_v-negative last.safetensors adam_v/ -1 resume
ckpt adam_m-inf last.safetensors adam_m/ inf resume
ckpt variance-neg last.safetensors normalizer/variance -1e-3 resume
ckpt variance-neg best.safetensors normalizer/variance -1 augment
ckpt ema-1e5 best.safetensors ema/ 1e5 augment
ckpt ema-nan best.safetensors ema/stem nan inpaint
ckpt variance-neg best.safetensors normalizer/variance -1 inpaint

# checkpoint files that are not checkpoints
ckfile() { # ckfile ID 'shell on $CD/X' KIND
    begin "checkpoint-file-$1"
    cp -a "$RUN1" "$CD/X"
    eval "$2"
    case $3 in
        infer) x "$R" infer --model_dir "$CD/X" --images_to_generate 1 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet ;;
        resume) x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 3 --quiet ;;
    esac
    CCMD="cp -a RUN1 X; $2; $CCMD"
    bad_file "X/"; nothing_in "$CD/o"
    end
}
ckfile truncated-half 'f=$CD/X/best.safetensors; head -c $(( $(stat -c %s $f) / 2 )) $f > $f.t; mv $f.t $f' infer
ckfile truncated-header 'head -c 12 $RUN1/best.safetensors > $CD/X/best.safetensors' infer
ckfile dev-urandom 'ln -sf /dev/urandom $CD/X/best.safetensors' infer
ckfile dev-zero-last 'ln -sf /dev/zero $CD/X/last.safetensors' resume
ckfile empty-last ': > $CD/X/last.safetensors' resume
ckfile best-is-last-of-other-run 'cp $RUN4/best.safetensors $CD/X/best.safetensors; python3 $W/tools/st.py $CD/X/best.safetensors normalizer/mean nan' infer

# ================================================================ 5. corrupt log.csv and final_images.json
H='epoch,n_loss,i_loss,seconds,learning_rate'
# rlog ID 'printf args' : report over a run whose log.csv is junk: no crash, and log.csv named somewhere
rlog() {
    begin "logcsv-report-$1"
    cp -a "$RUN1" "$CD/X"
    eval "$2" > "$CD/X/log.csv"
    x "$R" report --model_dir "$CD/X" --out "$CD/r.html" --quiet
    CCMD="cp -a RUN1 X; $2 > X/log.csv; $CCMD"
    if [ "$RC" -eq 0 ]; then
        [ -f "$CD/r.html" ] || fail "status 0 but no page"
        [ "${3:-}" = quiet-ok ] || grep -q 'log.csv' "$CD/out" "$CD/err" \
            || fail "status 0 and nothing said about the unreadable X/log.csv (the page treats it as empty)"
    else
        bad_file "log.csv"
    fi
    noleft "$CD"
    end
}
rlog epoch-2p62 "printf '$H\n4611686018427387904,0.5,0.5,0.1,1e-5\n1,0.4,0.4,0.1,1e-5\n'"
rlog epoch-span "printf '$H\n-4611686018427387904,0.5,0.5,0.1,1e-5\n4611686018427387904,0.4,0.4,0.1,1e-5\n'"
rlog seconds-1e300 "printf '$H\n1,0.5,0.5,1e300,1e-5\n2,0.4,0.4,1e300,1e-5\n'" quiet-ok
rlog losses-neg-huge "printf '$H\n1,-1e308,1e308,0.1,1e-5\n2,-inf,nan,0.1,1e-5\n'" quiet-ok
rlog nul-bytes "head -c 4096 /dev/zero"
rlog header-only-garbage-row "printf '$H\n1,abc,def,ghi,jkl\n'"
rlog crlf-and-spaces "printf '$H\r\n 1 , 0.5 , 0.5 , 0.1 , 1e-5 \r\n'" quiet-ok
rlog 100k-rows "python3 -c \"print('$H'); [print('%d,0.5,0.5,0.1,1e-5' % i) for i in range(1,100001)]\"" quiet-ok

# rlogres ID 'printf args' EPOCHS [warn]: a resume over a junk log completes, its log holding EPOCHS once
# each (README: bad rows are dropped with a warning naming log.csv), or stops with one error naming log.csv
rlogres() {
    begin "logcsv-resume-$1"
    cp -a "$RUN1" "$CD/X"
    eval "$2" > "$CD/X/log.csv"
    x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 4 --early_stopping false --quiet
    CCMD="cp -a RUN1 X; $2 > X/log.csv; $CCMD"
    if [ "$RC" -eq 0 ]; then
        local e; e=$(tail -n +2 "$CD/X/log.csv" | cut -d, -f1 | tr '\n' ' ')
        [ "$e" = "$3 " ] || fail "log.csv epochs after the resume are '$e', expected '$3'"
        exp_count "$CD/X/generated_images" 10; noleft "$CD/X"
        [ "${4:-}" != warn ] || grep -aq log.csv "$CD/err" || fail "no warning names log.csv's dropped rows"
    else bad_file "log.csv"; fi
    end
}
rlogres nan-rows "printf '$H\n1,nan,nan,nan,nan\n2,inf,-inf,1e308,1e308\n'" "3 4" warn
rlogres epoch-2p62 "printf '$H\n1,0.5,0.5,0.1,1e-5\n2,0.5,0.5,0.1,1e-5\n4611686018427387904,0.5,0.5,0.1,1e-5\n'" "1 2 3 4"
rlogres more-rows-than-checkpoint "printf '$H\n'; for i in 1 2 3 4 5 6 7 8 9; do echo \$i,0.5,0.5,0.1,1e-5; done" "1 2 3 4"
rlogres junk "head -c 3000 /dev/urandom" "1 2 3 4"

begin logcsv-resume-missing
cp -a "$RUN1" "$CD/X"; rm "$CD/X/log.csv"
x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 4 --early_stopping false --quiet
CCMD="cp -a RUN1 X; rm X/log.csv; $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/X/generated_images" 10; noleft "$CD/X"; else bad_file log.csv; fi
end

begin logcsv-resume-link-into-input
cp -a "$RUN1" "$CD/X"; rm "$CD/X/log.csv"; ln -s "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/X/log.csv"
x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 3 --quiet
CCMD="cp -a RUN1 X; ln -s RAW/1/S1_..._1_X.JPG X/log.csv; $CCMD"
exp_rc 0 1
end

begin logcsv-report-is-a-folder
cp -a "$RUN1" "$CD/X"; rm "$CD/X/log.csv"; mkdir "$CD/X/log.csv"
x "$R" report --model_dir "$CD/X" --out "$CD/r.html" --quiet
CCMD="cp -a RUN1 X; mkdir X/log.csv; $CCMD"
if [ "$RC" -ne 0 ]; then bad_file log.csv; else grep -q log.csv "$CD/out" "$CD/err" || fail "status 0 and nothing said about the folder X/log.csv"; fi
end

# final_images.json: how many final images a run made. A junk record must not change what a resume makes.
fij() { # fij ID JSON [EXPECTED]: the expected count of final images (default 5: the record is junk, 5 exist)
    local want=${3:-5}
    begin "final_images-$1"
    cp -a "$RUN1" "$CD/X"
    printf '%s' "$2" > "$CD/X/final_images.json"
    x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 2 --quiet
    CCMD="cp -a RUN1 X; echo '$2' > X/final_images.json; $CCMD"
    if [ "$RC" -eq 0 ]; then
        exp_count "$CD/X/generated_images" "$want"
        [ -z "$(ls "$CD/X/generated_images" | grep -E '_0_-|_0_[0-9]{12,}_')" ] || fail "final images with absurd indices: $(ls "$CD/X/generated_images" | grep -E '_0_-|_0_[0-9]{12,}_' | head -2 | tr '\n' ' ')"
        noleft "$CD/X"
    else
        bad_file final_images.json
    fi
    end
}
fij made-negative '{"made":-1,"next_index":5,"epoch":2}'
fij made-1e308 '{"made":1e308,"next_index":5,"epoch":2}'
fij index-negative '{"made":0,"next_index":-5,"epoch":2}' 10
fij index-2p63 '{"made":3,"next_index":9223372036854775807,"epoch":2}'
fij garbage 'not json at all'
fij epoch-huge '{"made":0,"next_index":5,"epoch":9223372036854775807}' 10

# ================================================================ 6. symbolic links
begin link-train-in_dir-is-link
ln -s "$DD/L1" "$CD/L1"
x "$R" train --in_dir "$CD/L1" --out_dir "$CD/o" "${T1[@]}"
ok; run_done "$(onerun "$CD/o")" 1 1
end

begin link-train-out_dir-link-into-subfolder
ln -s "$DD/L2/2" "$CD/o"
x "$R" train --in_dir "$DD/L2" --out_dir "$CD/o" "${T1[@]}"
bad_opt --out_dir
end

begin link-train-out_dir-below-link-not-yet-existing
ln -s "$DD" "$CD/dd"
x "$R" train --in_dir "$DD/L3" --out_dir "$CD/dd/L3/new/runs" "${T1[@]}"
bad_opt --out_dir
end

begin link-train-in_dir-dangling
ln -s "$CD/nowhere" "$CD/L1"
x "$R" train --in_dir "$CD/L1" --out_dir "$CD/o" "${T1[@]}"
bad_file L1; nothing_in "$CD/o"
end

begin link-train-in_dir-loop
ln -s "$CD/b" "$CD/a"; ln -s "$CD/a" "$CD/b"
x "$R" train --in_dir "$CD/a" --label 1 --out_dir "$CD/o" "${T1[@]}"
bad_file "$CD/a"; nothing_in "$CD/o"
end

begin link-train-loops-and-dangling-inside
mkdir -p "$CD/L1/deep"; cp "$DD"/L1/1/* "$CD/L1/"; protect "$CD/L1"
ln -s .. "$CD/L1/deep/up"; ln -s "$CD/L1" "$CD/L1/self"; ln -s "$CD/none.JPG" "$CD/L1/dangling.JPG"
x "$R" train --in_dir "$CD/L1" --out_dir "$CD/o" "${T1[@]}"
ok; run_done "$(onerun "$CD/o")" 1 1
n=$(find "$DD/L1/1" -type f | wc -l)
grep -q "on $n images" "$CD/out" || fail "expected training on $n images (each file once): $(grep -m1 'training label' "$CD/out")"
end

begin link-train-all-out_dir-into-label
ln -s "$DD/L3" "$CD/o"
x "$R" train-all --in_dir "$DD" --out_dir "$CD/o/runs" "${T1[@]}"
bad_opt --out_dir
end

begin link-train-all-label-folder-dangling
mkdir "$CD/dd"; for i in 1 3 4 5 6; do ln -s "$DD/L$i" "$CD/dd/L$i"; done; ln -s "$CD/nowhere" "$CD/dd/L2"
x "$R" train-all --in_dir "$CD/dd" --out_dir "$CD/o" "${T1[@]}"
exp_rc 1
grep -q 'L2' "$CD/err" || fail "the failing label L2 is not named on stderr$(errline)"
for i in 1 3 4 5 6; do run_done "$(ls -d "$CD"/o/L${i}_* 2>/dev/null | head -1)" 1 1; done
end

begin link-infer-out_dir-into-training-images-via-parent
ln -s "$W/in/wd" "$CD/wd"
x "$R" infer --model_dir "$RUN1" --images_to_generate 1 --generate_diffusion_steps 2 --out_dir "$CD/wd/diffusion_data/L1/1/gen" --quiet
bad_opt --out_dir
end

begin link-infer-model_dir-link-and-dangling-out
ln -s "$RUN1" "$CD/run"; ln -s "$CD/target" "$CD/o"
x "$R" infer --model_dir "$CD/run" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 2 '.*\.jpg'; noleft "$CD/o"; else bad_any o; fi
end

begin link-augment-out-label-4-into-raw
mkdir "$CD/o"; ln -s "$RAW/4" "$CD/o/4"
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
bad_any "o/4"
[ -z "$(find "$CD/o" -mindepth 1 ! -name 4 | head -1)" ] || fail "wrote $(find "$CD/o" -mindepth 1 ! -name 4 | wc -l) entries before refusing"
end

begin link-augment-out_dir-is-link-to-raw-parent
ln -s "$W/in/wd" "$CD/o"
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
bad_opt --out_dir
end

begin link-augment-out-label-link-elsewhere
mkdir -p "$CD/o" "$CD/elsewhere"; ln -s "$CD/elsewhere" "$CD/o/2"
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
if [ "$RC" -eq 0 ]; then augcheck "$CD/o"; noleft "$CD/o"; else bad_any "o/2"; fi
end

begin link-augment-raw-label-dangling
cp -a "$RAW" "$CD/raw"; rm -rf "$CD/raw/3"; ln -s "$CD/nowhere" "$CD/raw/3"; protect "$CD/raw"
x "$R" augment --in_dir "$CD/raw" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
CCMD="cp -a RAW raw; ln -sfn nowhere raw/3; $CCMD"
if [ "$RC" -eq 0 ]; then
    grep -q 'raw/3' "$CD/err" || fail "status 0: the dangling label folder raw/3 is treated as an empty label without a word (its photos silently missing from the balanced set)"
    augcheck "$CD/o"
else bad_file "raw/3"; fi
end

begin link-augment-raw-is-link-with-loops
cp -a "$RAW" "$CD/raw"; ln -s "$CD/raw" "$CD/raw/1/loop"; ln -s "$CD/none.JPG" "$CD/raw/2/S9_dangling.JPG"; ln -s "$CD/raw" "$CD/rl"
protect "$CD/raw"
x "$R" augment --in_dir "$CD/rl" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
if [ "$RC" -eq 0 ]; then
    augcheck "$CD/o"
    grep -q "^$NRAW originals copied" "$CD/out" || fail "expected '$NRAW originals copied': $(tail -1 "$CD/out")"
else bad_file S9_dangling.JPG; nothing_in "$CD/o"; fi
end

begin link-inpaint-out_dir-link-to-images
cp -a "$IMG" "$CD/img"; protect "$CD/img"; ln -s "$CD/img" "$CD/o"
x "$R" inpaint --model_dir "$RUN1" --images "$CD/img" --masks "$MSK" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="cp -a IMG img; ln -s img o; $CCMD"
bad_opt --out_dir
end

begin link-inpaint-out_dir-inside-masks
cp -a "$MSK" "$CD/msk"; protect "$CD/msk"
x "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$CD/msk" --out_dir "$CD/msk/out" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
bad_opt --out_dir
end

begin link-inpaint-image-dangling
cp -a "$IMG" "$CD/img"; ln -s "$CD/none.JPG" "$CD/img/dangling.JPG"; cp "$MSK/S1_D010125_010125_0_1_X.png" "$CD/dangling.png"
mkdir "$CD/msk"; cp "$MSK"/* "$CD/msk/"; mv "$CD/dangling.png" "$CD/msk/"
x "$R" inpaint --model_dir "$RUN1" --images "$CD/img" --masks "$CD/msk" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
if [ "$RC" -eq 0 ]; then grep -q dangling "$CD/err" "$CD/out" || fail "status 0 with the dangling image never mentioned"; exp_count "$CD/o" 2; else bad_file dangling; fi
end

begin link-inpaint-masks-loop
ln -s "$CD/m2" "$CD/m1"; ln -s "$CD/m1" "$CD/m2"
x "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$CD/m1" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
bad_file m1; nothing_in "$CD/o"
end

begin link-report-out-is-link-to-input
ln -s "$RAW/2/S1_D020125_020125_0_1_X.JPG" "$CD/r.html"
x "$R" report --model_dir "$RUN1" --out "$CD/r.html" --quiet
bad_any r.html
end

begin link-report-model_dir-loop-inside
mkdir "$CD/models"; ln -s "$RUN1" "$CD/models/L1_a"; ln -s "$CD/models" "$CD/models/loop"; ln -s "$CD/none" "$CD/models/L2_dangling"
x "$R" report --model_dir "$CD/models" --out "$CD/r.html" --quiet
exp_rc 0 1; [ "$RC" -ne 0 ] || [ -f "$CD/r.html" ] || fail "no page"
end

begin link-report-dataset-raw-loop
mkdir "$CD/ds"; ln -s "$CD/ds" "$CD/ds/raw"; ln -s "$DD" "$CD/ds/diffusion_data"
x "$R" report --model_dir "$RUN1" --dataset "$CD/ds" --out "$CD/r.html" --quiet
exp_rc 0 1
end

begin link-resume-model_dir-is-link
cp -a "$RUN2" "$CD/X"; ln -s "$CD/X" "$CD/run"
x "$R" train --load_and_train --model_dir "$CD/run" --num_epochs 3 --early_stopping false --quiet
ok; run_done "$CD/X" 3 10
end

begin link-synthesize-out_dir-dangling
ln -s "$CD/target" "$CD/o"
x "$R" synthesize --out_dir "$CD/o" --image_size 16 48
if [ "$RC" -eq 0 ]; then [ "$(find -L "$CD/o" -type f | wc -l)" -eq 40 ] || fail "not 40 images"; else bad_any o; fi
end

# ================================================================ 7. clashing names
begin clash-train-all-L2-and-L02
mkdir "$CD/dd"; for i in 1 2 3 4 5 6; do cp -a "$DD/L$i" "$CD/dd/"; done; cp -a "$DD/L2" "$CD/dd/L02"
x "$R" train-all --in_dir "$CD/dd" --out_dir "$CD/o" "${T1[@]}"
if [ "$RC" -eq 0 ]; then
    n=$(ls -d "$CD"/o/L2_* 2>/dev/null | wc -l)
    [ "$n" -le 1 ] || fail "$n runs of label 2 (L2 and L02 both trained as label 2; augment --weight_paths o/* then refuses two runs of one label)"
else bad_any L02; fi
end

begin clash-train-all-L5-and-5
mkdir "$CD/dd"; for i in 1 2 3 4 5 6; do cp -a "$DD/L$i" "$CD/dd/"; done; mkdir "$CD/dd/5"; cp "$RAW"/5/* "$CD/dd/5/"
x "$R" train-all --in_dir "$CD/dd" --out_dir "$CD/o" "${T1[@]}"
ok; n=$(ls -d "$CD"/o/L5_* 2>/dev/null | wc -l); [ "$n" -eq 1 ] || fail "$n runs of label 5"
end

begin clash-train-jpg-and-png-same-stem
mkdir "$CD/L1"; cp "$DD"/L1/1/* "$CD/L1/"; python3 tools/png.py "$CD/L1/S1_D010125_010125_0_1_X.png" 48 16 picture
cp "$DD/L1/1/S1_D010125_010125_0_2_X.JPG" "$CD/L1/S1_D010125_010125_0_2_X.jpg.JPG"
n=$(find "$CD/L1" -type f | wc -l)
x "$R" train --in_dir "$CD/L1" --out_dir "$CD/o" "${T1[@]}"
ok; grep -q "on $n images" "$CD/out" || fail "expected training on all $n files: $(grep -m1 'training label' "$CD/out")"
end

begin clash-infer-existing-lowercase-name
mkdir "$CD/o"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/o/S0_D${TODAY}_${TODAY}_0_1_DM_AUG_L1.jpg"
x "$R" infer --model_dir "$RUN1" --images_to_generate 3 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet
CCMD="o holds S0_D<today>_<today>_0_1_DM_AUG_L1.jpg (lower-case .jpg); $CCMD"
ok; exp_count "$CD/o" 4 '.*\.jpg'; noleft "$CD/o"
cmp -s "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/o/S0_D${TODAY}_${TODAY}_0_1_DM_AUG_L1.jpg" || fail "the existing .jpg was overwritten"
end

begin clash-infer-index-2p63-1
mkdir "$CD/o"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/o/S0_D${TODAY}_${TODAY}_0_9223372036854775807_DM_AUG_L1.JPG"
x "$R" infer --model_dir "$RUN1" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet
CCMD="an image S0_D<today>_<today>_0_9223372036854775807_DM_AUG_L1.JPG in o; $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 3 '.*\.jpg'; noleft "$CD/o"; else bad_any o/; fi
end

begin clash-infer-index-2p63-2
mkdir "$CD/o"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/o/S0_D${TODAY}_${TODAY}_0_9223372036854775806_DM_AUG_L1.JPG"
x "$R" infer --model_dir "$RUN1" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet
CCMD="an image S0_D<today>_<today>_0_9223372036854775806_DM_AUG_L1.JPG in o; $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 3 '.*\.jpg'; noleft "$CD/o"; else bad_any o/; fi
end

begin clash-infer-stale-claim-2p63-1
mkdir "$CD/o"; : > "$CD/o/.claim_L1_9223372036854775807"
x "$R" infer --model_dir "$RUN1" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$CD/o" --quiet
CCMD="touch o/.claim_L1_9223372036854775807 (a dead process's claim); $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 2 '.*\.jpg'; noleft "$CD/o"; else bad_any claim; fi
end

begin clash-augment-raw-01-beside-1
cp -a "$RAW" "$CD/raw"; cp -a "$RAW/1" "$CD/raw/01"; protect "$CD/raw"
x "$R" augment --in_dir "$CD/raw" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
bad_any "01"; nothing_in "$CD/o"   # README: a folder named like a label beside the label's own is refused naming both
end

begin clash-augment-raw-L4-beside-4
cp -a "$RAW" "$CD/raw"; cp -a "$RAW/4" "$CD/raw/L4"; protect "$CD/raw"
x "$R" augment --in_dir "$CD/raw" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
bad_any "L4"; nothing_in "$CD/o"
end

begin clash-augment-JPG-and-jpg-originals
cp -a "$RAW" "$CD/raw"; cp "$RAW/4/S1_D040125_040125_0_1_X.JPG" "$CD/raw/2/S1_D020125_020125_0_1_X.jpg"
python3 tools/png.py "$CD/raw/2/S1_D020125_020125_0_1_X.png" 48 16 picture; protect "$CD/raw"
x "$R" augment --in_dir "$CD/raw" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
ok; augcheck "$CD/o"; noleft "$CD/o"
grep -q "^$((NRAW + 2)) originals copied" "$CD/out" || fail "expected $((NRAW + 2)) originals copied: $(tail -1 "$CD/out")"
end

begin clash-augment-original-named-as-variation
cp -a "$RAW" "$CD/raw"; cp "$RAW/2/S1_D020125_020125_0_1_X.JPG" "$CD/raw/2/S4_D${TODAY}_${TODAY}_0_2_DM_VAR_L2.JPG"; protect "$CD/raw"
x "$R" augment --in_dir "$CD/raw" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
ok; augcheck "$CD/o"
end

begin clash-augment-rerun-other-strength
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --generate_diffusion_steps 2 --strength 1 --probs 1 --quiet
CCMD="augment ... into o, then again with --strength 1 --probs 1"
bad_opt --strength
n=$(find "$CD/o" -name '*_DM_*' | wc -l); [ "$n" -eq 6 ] || fail "$n generated images after the refused rerun, expected 6"
end

begin clash-augment-same-run-twice
x "$R" augment --in_dir "$RAW" --weight_paths "$RUN1" "$RUN1" "$RUN2" "$RUN3" --out_dir "$CD/o" --generate_diffusion_steps 2 --quiet
bad_any L1_; nothing_in "$CD/o"
end

begin clash-inpaint-JPG-and-jpg-images
mkdir "$CD/i" "$CD/m"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/i/A.JPG"; cp "$RAW/6/$(ls "$RAW/6" | head -1)" "$CD/i/A.jpg"
python3 tools/png.py "$CD/m/A.png" 48 16 mask
x "$R" inpaint --model_dir "$RUN1" --images "$CD/i" --masks "$CD/m" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="images A.JPG and A.jpg (different photos), mask A.png; $CCMD"
if [ "$RC" -eq 0 ]; then
    exp_count "$CD/o" 2 || true
else bad_any A.JPG A.jpg; fi
end

begin clash-inpaint-masks-png-and-PNG
mkdir "$CD/i" "$CD/m"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/i/A.JPG"
python3 tools/png.py "$CD/m/A.png" 48 16 mask; python3 tools/png.py "$CD/m/A.PNG" 48 16 white
x "$R" inpaint --model_dir "$RUN1" --images "$CD/i" --masks "$CD/m" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="image A.JPG, masks A.png (a band) and A.PNG (all white); $CCMD"
if [ "$RC" -eq 0 ]; then fail "status 0: one of the two masks of A was chosen without a word"; else bad_any A.png A.PNG; fi
end

begin clash-inpaint-jpg-and-png-images
mkdir "$CD/i" "$CD/m"; cp "$RAW/2/S1_D020125_020125_0_1_X.JPG" "$CD/i/B.jpg"; python3 tools/png.py "$CD/i/B.png" 48 16 picture
python3 tools/png.py "$CD/m/B.png" 48 16 mask
x "$R" inpaint --model_dir "$RUN1" --images "$CD/i" --masks "$CD/m" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="images B.jpg and B.png, mask B.png; $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 2; else bad_any B.jpg B.png; nothing_in "$CD/o"; fi
end

begin clash-inpaint-masks-png-and-jpg
mkdir "$CD/i" "$CD/m"; cp "$RAW/2/S1_D020125_020125_0_1_X.JPG" "$CD/i/B.JPG"
python3 tools/png.py "$CD/m/B.png" 48 16 mask; cp "$RAW/5/$(ls "$RAW/5" | head -1)" "$CD/m/B.jpg"
x "$R" inpaint --model_dir "$RUN1" --images "$CD/i" --masks "$CD/m" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="image B.JPG, masks B.png and B.jpg (a photo); $CCMD"
if [ "$RC" -eq 0 ]; then fail "status 0: one of the two masks of B was chosen without a word"; else bad_any B.png B.jpg; nothing_in "$CD/o"; fi
end

begin clash-inpaint-out_dir-equals-images
cp -a "$IMG" "$CD/img"; protect "$CD/img"
x "$R" inpaint --model_dir "$RUN1" --images "$CD/img" --masks "$MSK" --out_dir "$CD/img" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="cp -a IMG img; $CCMD"
bad_opt --out_dir
end

begin clash-report-overview-same-as-out-other-spelling
x "$R" report --model_dir "$RUN1" --out "$CD/r.html" --overview "$CD/./r.html" --quiet
bad_opt --overview; [ ! -e "$CD/r.html" ] || fail "r.html was written before the refusal"
end

begin clash-inpaint-masks-folder-is-images-folder
mkdir "$CD/im"; cp "$RAW/1/S1_D010125_010125_0_1_X.JPG" "$CD/im/A.JPG"; python3 tools/png.py "$CD/im/A.png" 48 16 mask; protect "$CD/im"
x "$R" inpaint --model_dir "$RUN1" --images "$CD/im" --masks "$CD/im" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
CCMD="im holds A.JPG and its mask A.png; $CCMD"
if [ "$RC" -eq 0 ]; then exp_count "$CD/o" 1 '.*_INPAINT\.jpg'; noleft "$CD/o"; else bad_any A.; nothing_in "$CD/o"; fi
end

begin clash-report-overview-link-to-out
ln -s "$CD/r.html" "$CD/ov.png"
x "$R" report --model_dir "$MODELS" --out "$CD/r.html" --overview "$CD/ov.png" --quiet
CCMD="ln -s r.html ov.png; $CCMD"
bad_any ov.png; [ ! -e "$CD/r.html" ] || fail "r.html was written before the refusal"
end

begin report-overview-gif
x "$R" report --model_dir "$MODELS" --out "$CD/r.html" --overview "$CD/ov.gif" --quiet
bad_opt --overview; [ ! -e "$CD/r.html" ] || fail "r.html was written before the refusal"
end

begin report-overview-missing-folder
x "$R" report --model_dir "$MODELS" --out "$CD/r.html" --overview "$CD/no/such/ov.png" --quiet
bad_any no/such; [ ! -e "$CD/r.html" ] || fail "r.html was written before the refusal"
end

begin report-out-missing-folder
x "$R" report --model_dir "$MODELS" --out "$CD/no/r.html" --quiet
bad_any "/no"
end

# stale temporaries and claims of a dead writer (pid 2^22+1 is never a live process here): a run removes them
DEADPID=4194305
stale() { # stale ID DIR-TO-SEED 'names' CMD...: seed hidden temporaries in DIR, run CMD, none may be left
    local id=$1 dir=$2 names=$3 n; shift 3
    begin "stale-$id"
    mkdir -p "$dir"
    for n in $names; do   # a claim holds its writer's pid; a temporary carries it in its name
        case $n in .claim_*) printf '%s' "${CLAIMPID-$DEADPID}" > "$dir/$n" ;; *) echo junk > "$dir/$n" ;; esac
    done
    x "$@"
    CCMD="dead writer's $names in ${dir//"$W"/W}; $CCMD"
    ok; noleft "$dir"
    end
}
stale infer "$W/c/stale-infer/o" ".S0_D${TODAY}_${TODAY}_0_0_DM_AUG_L1.JPG.$DEADPID.1.tmp .claim_L1_3" \
    "$R" infer --model_dir "$RUN1" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$W/c/stale-infer/o" --quiet
CLAIMPID="" stale infer-empty-claim "$W/c/stale-infer-empty-claim/o" ".claim_L1_0" \
    "$R" infer --model_dir "$RUN1" --images_to_generate 2 --generate_diffusion_steps 2 --out_dir "$W/c/stale-infer-empty-claim/o" --quiet
stale augment "$W/c/stale-augment/o/2" ".S0_D${TODAY}_${TODAY}_0_0_DM_AUG_L2.JPG.$DEADPID.1.tmp .S1_D020125_020125_0_1_X.JPG.$DEADPID.2.tmp" \
    "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$W/c/stale-augment/o" --generate_diffusion_steps 2 --quiet
stale inpaint "$W/c/stale-inpaint/o" ".S1_D010125_010125_0_1_X_INPAINT.JPG.$DEADPID.1.tmp" \
    "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$W/c/stale-inpaint/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
stale report "$W/c/stale-report" ".r.html.$DEADPID.1.tmp" \
    "$R" report --model_dir "$RUN1" --out "$W/c/stale-report/r.html" --quiet
stale synthesize "$W/c/stale-synthesize/o/3" ".S2_D030125_030125_0_1_X.JPG.$DEADPID.1.tmp" \
    "$R" synthesize --out_dir "$W/c/stale-synthesize/o" --image_size 16 48
begin stale-resume-generated-images
cp -a "$RUN1" "$CD/X"; echo junk > "$CD/X/generated_images/.S0_D${TODAY}_${TODAY}_0_7_DM_AUG_L1.JPG.$DEADPID.1.tmp"
echo junk > "$CD/X/.last.safetensors.$DEADPID.1.tmp"
x "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 3 --early_stopping false --quiet
CCMD="cp -a RUN1 X; a dead writer's temporaries in X and X/generated_images; $CCMD"
ok; run_done "$CD/X" 3 10
end

# ================================================================ 8. empty and odd arguments
emp() { begin "empty-$1"; shift; x "$@"; bad_opt "${EMPOPT}"; end; }
EMPOPT=--model_dir; emp infer-model_dir "$R" infer --model_dir "" --quiet
EMPOPT=--images; emp inpaint-images "$R" inpaint --model_dir "$RUN1" --images "" --masks "$MSK" --out_dir "$W/c/never" --quiet
EMPOPT=--masks; emp inpaint-masks "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "" --out_dir "$W/c/never" --quiet
EMPOPT=--weight_paths; emp augment-weight_paths "$R" augment --in_dir "$RAW" --weight_paths "" --out_dir "$W/c/never" --quiet
EMPOPT=--out; emp report-out "$R" report --model_dir "$RUN1" --out "" --quiet
EMPOPT=--dataset; emp report-dataset "$R" report --model_dir "$RUN1" --dataset "" --out "$W/c/never.html" --quiet
EMPOPT=--config; emp train-config "$R" train --in_dir "$DD/L1" --config "" --out_dir "$W/c/never" "${T1[@]}"
EMPOPT=--in_dir; emp train-all-in_dir "$R" train-all --in_dir "" --out_dir "$W/c/never" "${T1[@]}"
EMPOPT=--out_dir; emp demo-out_dir "$R" demo --out_dir "" --quick --quiet
EMPOPT=--model_dir; emp resume-model_dir "$R" train --load_and_train --model_dir "" --quiet
rm -rf "$W/c/never" "$W/c/never.html"

begin report-title-control-characters
x "$R" report --model_dir "$RUN1" --out "$CD/r.html" --title $'a\nb\x01</title><script>' --quiet
ok; [ -f "$CD/r.html" ] && ! grep -q '</title><script>' "$CD/r.html" || fail "the title is not escaped or the page is missing"
end

ofile() { # an existing regular file as the output folder
    begin "out-is-file-$1"; shift; : > "$CD/f"; x "$@"; bad_any "f"; end
}
ofile infer "$R" infer --model_dir "$RUN1" --images_to_generate 1 --generate_diffusion_steps 2 --out_dir "$W/c/out-is-file-infer/f" --quiet
ofile augment "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$W/c/out-is-file-augment/f" --generate_diffusion_steps 2 --quiet
ofile inpaint "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$W/c/out-is-file-inpaint/f" --quiet
ofile synthesize "$R" synthesize --out_dir "$W/c/out-is-file-synthesize/f" --image_size 16 48
ofile train "$R" train --in_dir "$DD/L1" --out_dir "$W/c/out-is-file-train/f" "${T1[@]}"

begin infer-model_dir-is-raw-dataset
x "$R" infer --model_dir "$RAW" --images_to_generate 1 --out_dir "$CD/o" --quiet
bad_file config.json; nothing_in "$CD/o"
end

begin synthesize-jpeg-limit-within-advertised-range
x "$R" synthesize --out_dir "$CD/o" --image_size 1 70000
CCMD="$CCMD   (--help: each side 1 to 1048576)"
if [ "$RC" -eq 0 ]; then [ "$(find "$CD/o" -type f | wc -l)" -eq 40 ] || fail "not 40 images"; else bad_opt --image_size; nothing_in "$CD/o"; fi
end

begin train-8-levels-too-small
x "$R" train --in_dir "$DD/L1" --out_dir "$CD/o" --image_size 16 48 --widths 8 8 8 8 8 8 8 8 --block_depth 1 --embedding_dims 16 --batch_size 2 --num_epochs 1 --quiet
bad_opt --image_size; nothing_in "$CD/o"
end

begin inpaint-jump-longer-than-steps
x "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$CD/o" --generate_diffusion_steps 4 --jump_length 5 --quiet
bad_opt --jump_length; nothing_in "$CD/o"
end

begin augment-probs-sum-above-1
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --strength 1 0.5 --probs 0.7 0.7 --quiet
bad_opt --probs; nothing_in "$CD/o"
end

begin augment-strength-probs-count-mismatch
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$CD/o" --strength 1 0.5 0.3 --probs 0.5 0.5 --quiet
bad_opt --probs; nothing_in "$CD/o"
end

begin unknown-option-close-name
x "$R" infer --model_dir "$RUN1" --images-to-generat 2 --quiet
bad_opt images-to-generat
end

begin option-equals-empty
x "$R" infer --model_dir "$RUN1" --out_dir= --images_to_generate 1 --quiet
bad_opt --out_dir
end

begin report-title-100k
x "$R" report --model_dir "$RUN1" --out "$CD/r.html" --title "$(head -c 100000 /dev/zero | tr '\0' '<')" --quiet
ok; [ -f "$CD/r.html" ] && ! grep -q '<<<<' "$CD/r.html" || fail "the title is not escaped or the page is missing"
end

begin infer-dry-run-writes-nothing
x "$R" infer --model_dir "$RUN1" --images_to_generate 100000 --generate_diffusion_steps 10000 --out_dir "$CD/o" --dry_run --quiet
ok; nothing_in "$CD/o"
end

begin train-all-dry-run-writes-nothing
x "$R" train-all --in_dir "$DD" --out_dir "$CD/o" "${T1[@]}" --dry_run
ok; nothing_in "$CD/o"
end

# ================================================================ 9. signals at odd moments
# sigtrain ID SIGNAL CONDITION TRAIN-ARGS... ; then the printed command (or the documented resume)
SLOW=(--image_size 32 96 --widths 8 16 --block_depth 1 --embedding_dims 16 --batch_size 2 --early_stopping false --quiet)
sigcase_resume() { # after the stop: run the printed (or documented) command, check the run is finished
    local run=$1 epochs=$2 images=$3 cmd
    cmd=$(printed_cmd)
    if [ -z "$cmd" ]; then
        [ "$SIGN" != KILL ] && fail "no resume command printed after SIG$SIGN"
        cmd="$R train --load_and_train --model_dir $run"
    fi
    if [ ! -f "$run/last.safetensors" ] && [ "$SIGN" = KILL ]; then
        x $cmd   # killed before the first checkpoint: one clear error is all that can be asked
        [ "$RC" -eq 0 ] || bad_file last.safetensors
        return
    fi
    x $cmd
    ok; run_done "$run" "$epochs" "$images"
    if [ -n "${SAMPLES:-}" ]; then
        local s; s=$(ls "$run/samples" 2>/dev/null | grep -c 'epoch_.*png')
        [ "$s" -eq "$SAMPLES" ] || fail "$s sample grids after the resume, expected $SAMPLES (one per epoch)"
    fi
}
sigtrain() {
    local id=$1 sig=$2 cond=$3 epochs=$4 images=$5; shift 5
    SIGN=$sig
    begin "signal-train-$id"
    without num_epochs "$@"
    bgstart "$R" train --in_dir "$DD/L4" --out_dir "$CD/o" --num_epochs "$epochs" --images_to_generate "$images" "${WO[@]}"
    local w; waitcond 60 "$cond"; w=$?
    if [ $w -ne 0 ]; then bgwait "0"; skip "signal-train-$id" "timing: the run ended before the signal point"; BGPID=""; return; fi
    kill -"$sig" "$BGPID"
    [ "${DOUBLE:-}" = 1 ] && { sleep 0.2; kill -"$sig" "$BGPID" 2>/dev/null; }
    case $sig in INT) bgwait "130" ;; TERM) bgwait "143 130" ;; KILL) bgwait "137" ;; esac
    case $sig in INT) exp_rc 130 0 ;; TERM) exp_rc 143 0 ;; KILL) exp_rc 137 ;; esac
    CCMD="$CCMD; kill -$sig when [$cond]; then the printed command"
    sigcase_resume "$(onerun "$CD/o")" "$epochs" "$images"
    end
}
LOGN='[ "$(tail -n +2 $CD/o/L*/log.csv 2>/dev/null | grep -c .)" -ge'
GEN1='[ "$(ls $CD/o/L*/generated_images 2>/dev/null | grep -c JPG)" -ge 1 ]'
sigtrain int-during-epochs INT "$LOGN 4 ]" 30 2 "${SLOW[@]}" --generate_diffusion_steps 20
sigtrain term-during-epochs TERM "$LOGN 6 ]" 30 2 "${SLOW[@]}" --generate_diffusion_steps 20
sigtrain kill9-during-epochs KILL "$LOGN 3 ]" 30 2 "${SLOW[@]}" --generate_diffusion_steps 20
sigtrain int-during-final-images INT "$GEN1" 2 6 "${TINY[@]}" --early_stopping false --generate_diffusion_steps 1200
sigtrain kill9-during-final-images KILL "$GEN1" 2 6 "${TINY[@]}" --early_stopping false --generate_diffusion_steps 1200
SAMPLES=3 sigtrain term-during-sample-grid TERM "[ -d \$CD/o/L4_*/samples ] || $LOGN 1 ]" 3 2 "${TINY[@]}" --early_stopping false --generate_on_epoch 1 --generate_diffusion_steps 2500
DOUBLE=1 sigtrain double-int-during-epochs INT "$LOGN 5 ]" 30 2 "${SLOW[@]}" --generate_diffusion_steps 20
DOUBLE=""
sigtrain kill9-right-after-start KILL '[ -f $CD/o/L4_*/config.json ]' 20 2 "${SLOW[@]}" --generate_diffusion_steps 20

begin signal-resume-interrupted-again
cp -a "$RUN4" "$CD/X"
bgstart "$R" train --load_and_train --model_dir "$CD/X" --num_epochs 40 --early_stopping false --quiet
waitcond 60 '[ "$(tail -n +2 $CD/X/log.csv | grep -c .)" -ge 8 ]'
kill -TERM "$BGPID" 2>/dev/null; bgwait "143 0"; exp_rc 143 0
SIGN=TERM; CCMD="cp -a RUN4 X; train --load_and_train --model_dir X --num_epochs 40; SIGTERM after epoch 8; the printed command"
sigcase_resume "$CD/X" 40 10
end

begin signal-train-all-term-label-2
bgstart "$R" train-all --in_dir "$DD" --out_dir "$CD/o" "${SLOW[@]}" --num_epochs 15 --images_to_generate 1 --generate_diffusion_steps 5
if waitcond 60 '[ -n "$(ls -d $CD/o/L2_* 2>/dev/null)" ] && [ -f $CD/o/L2_*/log.csv ]'; then
    kill -TERM "$BGPID"; bgwait "143 130"; exp_rc 143
    cmd=$(printed_cmd); [ -n "$cmd" ] || fail "no resume command printed"
    grep -q 'labels not started' "$CD/out" || fail "the labels not started are not named (no 'labels not started' line)"
    notstarted=$(grep -E '^L[1-6] .*not started *$' "$CD/out" | cut -d' ' -f1 | tr '\n' ' ')
    [ -n "$cmd" ] && { x $cmd; ok; }
    for l in $notstarted; do x "$R" train --in_dir "$DD/$l" --out_dir "$CD/o" "${SLOW[@]}" --num_epochs 15 --images_to_generate 1 --generate_diffusion_steps 5; ok; done
    for i in 1 2 3 4 5 6; do run_done "$(ls -d "$CD"/o/L${i}_* 2>/dev/null | head -1)" 15 1; done
    CCMD="train-all --in_dir DD --out_dir o ...; SIGTERM during label 2; the printed resume; train for each label not started"
    end
else bgwait "0"; skip signal-train-all-term-label-2 "timing"; fi

begin signal-demo-term
bgstart "$R" demo --out_dir "$CD/o" --quick --quiet
sleep 3; kill -TERM "$BGPID" 2>/dev/null; bgwait "143 130"; exp_rc 143 130 0
cmd=$(printed_cmd)
if [ -n "$cmd" ]; then
    x $cmd; ok
    run=$(echo "$cmd" | sed 's/.*--model_dir //; s/ .*//')
    n=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['train']['num_epochs'])" "$run/config.json")
    g=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['train']['images_to_generate'])" "$run/config.json")
    run_done "$run" "$n" "$g"
fi
CCMD="demo --out_dir o --quick; SIGTERM at 3 s; the printed resume"
end

# sigcmd ID SIGNAL CONDITION : a generation command in the background, the signal, then the same command
siggen() {
    local id=$1 sig=$2 cond=$3; shift 3
    SIGN=$sig
    begin "signal-$id"
    bgstart "$@"
    local w; waitcond 60 "$cond"; w=$?
    if [ $w -ne 0 ]; then bgwait "0"; skip "signal-$id" "timing: ended before the signal point"; return 1; fi
    kill -"$sig" "$BGPID"
    case $sig in INT) bgwait "130"; exp_rc 130 0 ;; TERM) bgwait "143 130"; exp_rc 143 0 ;; KILL) bgwait "137" ;; esac
    CCMD="$CCMD; kill -$sig when [$cond]; then the rerun"
    return 0
}
INF=("$R" infer --model_dir "$RUN1" --generate_diffusion_steps 1200 --batch_size 2 --quiet --no_memorization_check)
for s in INT TERM KILL; do
    if siggen "infer-$s" "$s" '[ "$(ls $CD/o 2>/dev/null | grep -c JPG)" -ge 1 ]' "${INF[@]}" --images_to_generate 8 --out_dir "$W/c/signal-infer-$s/o"; then
        have=$(count "$CD/o" '.*\.jpg')
        if [ "$have" -lt 8 ]; then
            x "$R" infer --model_dir "$RUN1" --generate_diffusion_steps 2 --quiet --images_to_generate $((8 - have)) --out_dir "$CD/o"
            ok; exp_count "$CD/o" 8 '.*\.jpg'
        fi
        noleft "$CD/o"
        end
    fi
done

AUG=("$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --generate_diffusion_steps 2500 --batch_size 1 --quiet)
for s in INT TERM KILL; do
    if siggen "augment-$s" "$s" '[ -n "$(find $CD/o -name "*_DM_*" 2>/dev/null | head -1)" ]' "${AUG[@]}" --out_dir "$W/c/signal-augment-$s/o"; then
        x "${AUG[@]}" --out_dir "$CD/o"
        ok; augcheck "$CD/o"; noleft "$CD/o"
        end
    fi
done

begin signal-augment-int-while-copying
bgstart "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --generate_diffusion_steps 2 --quiet --out_dir "$CD/o"
waitcond 20 '[ -d $CD/o/1 ]'; kill -INT "$BGPID" 2>/dev/null; bgwait "130"; exp_rc 130 0
x "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --generate_diffusion_steps 2 --quiet --out_dir "$CD/o"
ok; augcheck "$CD/o"; noleft "$CD/o"
end

mkdir -p "$W/c/inp6/i" "$W/c/inp6/m"
for k in 1 2 3 4 5 6; do cp "$RAW/4/$(ls "$RAW/4" | sed -n ${k}p)" "$W/c/inp6/i/im$k.JPG"; python3 tools/png.py "$W/c/inp6/m/im$k.png" 48 16 mask; done
INP=("$R" inpaint --model_dir "$RUN1" --images "$W/c/inp6/i" --masks "$W/c/inp6/m" --generate_diffusion_steps 300 --jump_length 10 --jump_n_sample 3 --quiet)
for s in INT TERM KILL; do
    if siggen "inpaint-$s" "$s" '[ "$(ls $CD/o 2>/dev/null | grep -c INPAINT)" -ge 1 ]' "${INP[@]}" --out_dir "$W/c/signal-inpaint-$s/o"; then
        [ "$s" != KILL ] && ! grep -q 'same command' "$CD/out" "$CD/err" && fail "no word on how to finish after SIG$s"
        x "${INP[@]}" --out_dir "$CD/o"
        ok; exp_count "$CD/o" 6 '.*_INPAINT\.jpg'; noleft "$CD/o"
        end
    fi
done

for s in TERM KILL; do
    SIGN=$s; begin "signal-report-$s"
    bgstart "$R" report --model_dir "$MODELS" --dataset "$W/in/wd" --out "$CD/r.html" --overview "$CD/ov.png" --label_measure --quiet
    sleep 0.04; kill -$s "$BGPID" 2>/dev/null
    case $s in TERM) bgwait "143"; exp_rc 143 0 1 ;; KILL) bgwait "137" ;; esac
    rm -f "$CD/ov.png"
    x "$R" report --model_dir "$MODELS" --dataset "$W/in/wd" --out "$CD/r.html" --overview "$CD/ov.png" --label_measure --quiet
    ok; [ -f "$CD/r.html" ] && [ -f "$CD/ov.png" ] || fail "page or overview missing after the rerun"; noleft "$CD"
    CCMD="report ... & kill -$s at 40 ms; the same report again (the overview removed first)"
    end
done

begin signal-synthesize-kill9
bgstart "$R" synthesize --out_dir "$CD/o" --image_size 200 600
sleep 0.15; kill -9 "$BGPID" 2>/dev/null; bgwait "137"
x "$R" synthesize --out_dir "$CD/o" --image_size 200 600
ok; [ "$(find "$CD/o" -type f -name '*.JPG' | wc -l)" -eq 40 ] || fail "not 40 images after the rerun"; noleft "$CD/o"
CCMD="synthesize --out_dir o --image_size 200 600 & kill -9 at 150 ms; the same again"
end

# ================================================================ 10. a full disk (2 MB tmpfs)
mkdir -p "$W/full"
if mount -t tmpfs -o size=2m tmpfs "$W/full" 2>/dev/null; then
    FULL=$W/full
    fill() { # leave about $1 KiB free
        rm -f "$FULL/.filler"
        local free; free=$(df -k --output=avail "$FULL" | tail -1)
        [ "$free" -gt "$1" ] && dd if=/dev/zero of="$FULL/.filler" bs=1k count=$((free - $1)) 2>/dev/null
    }
    unfill() { rm -f "$FULL/.filler"; }
    fullcase() { # fullcase ID KIB-FREE CHECK-AFTER-RERUN CMD...: fails on the full disk, then completes
        local id=$1 kib=$2 check=$3; shift 3
        begin "fulldisk-$id"
        rm -rf "${FULL:?}"/*; [ -n "${PRE:-}" ] && eval "$PRE"; fill "$kib"
        x "$@"
        exp_rc 1
        if [ "${MULTI:-}" = 1 ]; then grep -qF "$FULL" "$CD/err" || fail "no error names a file on the full disk$(errline)"; else exp_err1 "$FULL"; fi
        [ "$RC" -eq 1 ] && { local l; l=$(find "$FULL" -name '.*.tmp' | head -2 | tr '\n' ' '); [ -z "$l" ] || fail "temporaries left on the full disk: ${l//"$W"/W}"; }
        unfill
        [ -n "$check" ] && eval "$check"
        CCMD="$CCMD   (on a 2 MB tmpfs with ${kib} KiB free; then space freed and the rerun)"
        end
    }
    fullcase infer 8 'x "$@"; ok; exp_count $FULL/o 10 ".*\.jpg"; noleft $FULL/o' \
        "$R" infer --model_dir "$RUN1" --images_to_generate 10 --generate_diffusion_steps 2 --out_dir "$FULL/o" --quiet
    fullcase augment 60 'x "$@"; ok; augcheck $FULL/o; noleft $FULL/o' \
        "$R" augment --in_dir "$RAW" --weight_paths "${RUNS[@]}" --out_dir "$FULL/o" --generate_diffusion_steps 2 --quiet
    fullcase inpaint 4 'x "$@"; ok; exp_count $FULL/o 2; noleft $FULL/o' \
        "$R" inpaint --model_dir "$RUN1" --images "$IMG" --masks "$MSK" --out_dir "$FULL/o" --generate_diffusion_steps 4 --jump_length 2 --jump_n_sample 1 --quiet
    fullcase report 100 'x "$@"; ok; noleft $FULL' \
        "$R" report --model_dir "$MODELS" --out "$FULL/r.html" --quiet
    fullcase synthesize 30 'x "$@"; ok; [ "$(find $FULL/o -type f | wc -l)" -eq 40 ] || fail "not 40 images after the rerun"; noleft $FULL/o' \
        "$R" synthesize --out_dir "$FULL/o" --image_size 16 48
    fullcase train-new-run 250 'r=$(onerun $FULL/o); x "$R" train --load_and_train --model_dir "$r" --quiet; if [ -f "$r/last.safetensors" ]; then ok; run_done "$r" 2 1; else bad_file last.safetensors; x "$@"; ok; run_done "$(ls -td $FULL/o/L1_* | head -1)" 2 1; fi' \
        "$R" train --in_dir "$DD/L1" --out_dir "$FULL/o" "${TINY[@]}" --early_stopping false --images_to_generate 1 --generate_diffusion_steps 2
    PRE='cp -a "$RUN1" "$FULL/X"' fullcase resume 60 'x "$R" infer --model_dir $FULL/X --checkpoint last --images_to_generate 1 --generate_diffusion_steps 2 --out_dir $CD/i --quiet; ok; x "$R" train --load_and_train --model_dir $FULL/X --num_epochs 4 --early_stopping false --quiet; ok; run_done $FULL/X 4 10' \
        "$R" train --load_and_train --model_dir "$FULL/X" --num_epochs 4 --early_stopping false --quiet
    MULTI=1 fullcase train-all 250 'true' \
        "$R" train-all --in_dir "$DD" --out_dir "$FULL/o" "${TINY[@]}"
    MULTI=1 fullcase demo 100 'true' "$R" demo --out_dir "$FULL/d" --quick --quiet
    umount "$FULL" 2>/dev/null && FULL=""
else
    for id in infer augment inpaint report synthesize train-new-run resume train-all demo; do
        skip "fulldisk-$id" "mount -t tmpfs is not permitted here"
    done
fi

# ---------------------------------------------------------------- summary
echo "the pass took $((SECONDS - START)) s"
if [ "$SKIPN" -gt 0 ]; then echo "$PASSN passed, $FAILN failed, $SKIPN skipped"; else echo "$PASSN passed, $FAILN failed"; fi
[ "$FAILN" -eq 0 ]
