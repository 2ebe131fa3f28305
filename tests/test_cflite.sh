#!/usr/bin/env bash
# test_cflite.sh - the ClusterFuzzLite files: .github/workflows/cflite_pr.yml
# (code-change fuzzing of pull requests), cflite_batch.yml (batch fuzzing on a
# schedule) and cflite_cron.yml (corpus pruning and coverage) parse (a small
# YAML-subset reader here, cross-checked against PyYAML when it is
# installed) and lay out what ClusterFuzzLite's documentation asks for: the
# trigger, a build_fuzzers step before a run_fuzzers step in every job, the
# mode, the language of .clusterfuzzlite/project.yaml, sanitizers the build
# supports. Then the build step they name - the image of
# .clusterfuzzlite/Dockerfile runs $SRC/build.sh, a copy of
# .clusterfuzzlite/build.sh - runs here, offline, through
# test_ossfuzz_build.sh (every harness built, each runs a seed).
# usage: test_cflite.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: $0 SOURCE_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

python3 - "$src" <<'PY'
import os, re, sys

def strip_comment(s):
    q = None
    for i, c in enumerate(s):
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == "#" and (i == 0 or s[i - 1] in " \t"):
            return s[:i].rstrip()
    return s.rstrip()

def scalar(s):
    s = s.strip()
    if s == "":
        return None
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    if s.startswith("[") and s.endswith("]"):
        return [scalar(x) for x in s[1:-1].split(",") if x.strip()]
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    if s in ("true", "false"):
        return s == "true"
    return s

def split_key(s):
    m = re.match(r"([A-Za-z0-9_.-]+):(?:\s+(.*))?$", s)
    if not m:
        raise ValueError("not a key: %r" % s)
    return m.group(1), m.group(2) or ""

def parse(text):
    lines = []
    for raw in text.splitlines():
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError("tab indentation")
        body = strip_comment(raw)
        if body.strip():
            lines.append([len(body) - len(body.lstrip()), body.strip()])

    def block(i, ind):
        if lines[i][1].startswith("- ") or lines[i][1] == "-":
            out = []
            while i < len(lines) and lines[i][0] == ind and lines[i][1].startswith("-"):
                item = lines[i][1][1:].strip()
                if re.match(r"[A-Za-z0-9_.-]+:(\s|$)", item):
                    lines[i] = [ind + 2, item]  # "- key: v" opens a map
                    v, i = block(i, ind + 2)
                else:
                    v, i = scalar(item), i + 1
                out.append(v)
            return out, i
        out = {}
        while i < len(lines) and lines[i][0] == ind:
            k, rest = split_key(lines[i][1])
            if k in out:
                raise ValueError("duplicate key %s" % k)
            i += 1
            if rest:
                out[k] = scalar(rest)
            elif i < len(lines) and lines[i][0] > ind:
                out[k], i = block(i, lines[i][0])
            else:
                out[k] = None
        if i < len(lines) and lines[i][0] > ind:
            raise ValueError("bad indentation at %r" % lines[i][1])
        return out, i

    v, i = block(0, 0)
    if i != len(lines):
        raise ValueError("trailing text at %r" % lines[i][1])
    return v

src = sys.argv[1]
fail = []
def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fail.append(what)

lang = None
with open(os.path.join(src, ".clusterfuzzlite/project.yaml")) as f:
    lang = parse(f.read()).get("language")
check(".clusterfuzzlite/project.yaml names the language (%s)" % lang, lang == "c")
docker = open(os.path.join(src, ".clusterfuzzlite/Dockerfile")).read()
check("the Dockerfile copies .clusterfuzzlite/build.sh to $SRC/ (the build step)",
      re.search(r"^COPY\s+\.clusterfuzzlite/build\.sh\s+\$SRC/\s*$", docker, re.M) is not None)

BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"
SANITIZERS = {"address", "undefined", "coverage"}  # no MSan: BoringSSL is not instrumented

def jobs_modes(name, wf):
    modes = []
    for jname, job in wf["jobs"].items():
        steps = job["steps"]
        uses = [s.get("uses") for s in steps]
        b, r = (uses.index(BUILD) if BUILD in uses else -1), (uses.index(RUN) if RUN in uses else -1)
        check("%s: job %s builds (%s) then runs (%s)" % (name, jname, BUILD, RUN), 0 <= b < r)
        if not 0 <= b < r:
            continue
        bw, rw = steps[b].get("with") or {}, steps[r].get("with") or {}
        check("%s: job %s builds language %s" % (name, jname, bw.get("language")),
              bw.get("language") == lang)
        sans = (job.get("strategy") or {}).get("matrix", {}).get("sanitizer")
        if sans is not None:
            check("%s: job %s sanitizers %s are ones the build supports" % (name, jname, sans),
                  isinstance(sans, list) and sans and set(sans) <= SANITIZERS)
        for w in (bw, rw):
            sv = w.get("sanitizer", "address")
            check("%s: job %s sanitizer %s" % (name, jname, sv),
                  sv == "${{ matrix.sanitizer }}" and sans is not None or sv in SANITIZERS)
        secs = rw.get("fuzz-seconds")
        check("%s: job %s fuzz-seconds %s" % (name, jname, secs), isinstance(secs, int) and secs > 0)
        modes.append((rw.get("mode"), bw.get("sanitizer"), rw.get("sanitizer")))
    return modes

def cron_ok(wf):
    sch = wf["on"].get("schedule")
    return isinstance(sch, list) and sch and len(str(sch[0].get("cron", "")).split()) == 5

wfdir = os.path.join(src, ".github/workflows")
wfs = {}
for name in ("cflite_pr.yml", "cflite_batch.yml", "cflite_cron.yml"):
    path = os.path.join(wfdir, name)
    try:
        with open(path) as f:
            text = f.read()
        wfs[name] = parse(text)
    except (OSError, ValueError) as e:
        check("%s parses (%s)" % (name, e), False)
        continue
    check("%s parses" % name, True)
    try:
        import yaml  # cross-check the reader where PyYAML exists
        y = yaml.safe_load(text)
        if True in y:  # YAML 1.1 reads the key "on" as a boolean
            y["on"] = y.pop(True)
        check("%s: the reader agrees with PyYAML" % name, y == wfs[name])
    except ImportError:
        pass
    wf = wfs[name]
    check("%s: name, on, jobs, permissions read-all" % name,
          all(k in wf for k in ("name", "on", "jobs")) and wf.get("permissions") == "read-all")

if "cflite_pr.yml" in wfs:
    wf = wfs["cflite_pr.yml"]
    check("cflite_pr.yml: runs on pull requests", "pull_request" in (wf["on"] or {}))
    modes = jobs_modes("cflite_pr.yml", wf)
    check("cflite_pr.yml: mode code-change", [m[0] for m in modes] == ["code-change"])
if "cflite_batch.yml" in wfs:
    wf = wfs["cflite_batch.yml"]
    check("cflite_batch.yml: on a cron schedule", cron_ok(wf))
    modes = jobs_modes("cflite_batch.yml", wf)
    check("cflite_batch.yml: mode batch", [m[0] for m in modes] == ["batch"])
if "cflite_cron.yml" in wfs:
    wf = wfs["cflite_cron.yml"]
    check("cflite_cron.yml: on a cron schedule", cron_ok(wf))
    modes = jobs_modes("cflite_cron.yml", wf)
    check("cflite_cron.yml: prune, and coverage on a coverage build",
          sorted(m[0] for m in modes) == ["coverage", "prune"] and
          ("coverage", "coverage", "coverage") in modes)
sys.exit(1 if fail else 0)
PY

# the build step the workflows name, as OSS-Fuzz's compile runs it
bash "$here/test_ossfuzz_build.sh" "$src" .clusterfuzzlite/build.sh
