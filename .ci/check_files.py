#!/usr/bin/python3
"""Checks the files that run aipa elsewhere: the GitHub workflows, the
action, the ClusterFuzzLite project file and the container recipe.

Each YAML file must parse; a workflow must have triggers and jobs whose steps
each use an action or run a command; the action must be a composite one whose
steps name a shell and whose ${{ inputs.X }} are declared inputs; the
ClusterFuzzLite workflows must use the language of .clusterfuzzlite/project.yaml
and the modes ClusterFuzzLite documents (code-change, batch, prune, coverage)
between them; every repository path the files name (in `paths:` filters, in
commands, in action inputs, in COPY lines) must exist.

Usage: check_files.py [REPO_ROOT]   (exit 0 clean, 1 with one line per problem)
"""
import glob
import os
import re
import sys

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
PROBLEMS = []
# Top-level entries of the repository a command or input may name.
PATH_RE = re.compile(r"(?<![\w./$-])((?:\.ci|\.clusterfuzzlite|conformance|scripts|fuzz|tests|docs|harness|"
                     r"reference_impl|corpus)/[\w.@*/-]*[\w*])")
CFLITE_MODES = {"code-change", "batch", "prune", "coverage"}


def problem(where, msg):
    PROBLEMS.append(f"{os.path.relpath(where, ROOT)}: {msg}")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        problem(path, f"does not parse as YAML: {e}")
        return None


def path_exists(p):
    p = p.rstrip("/")
    if "*" in p:  # a glob: its fixed prefix must exist
        p = p.split("*", 1)[0].rstrip("/")
        return p == "" or os.path.exists(os.path.join(ROOT, p)) or bool(glob.glob(os.path.join(ROOT, p) + "*"))
    return os.path.exists(os.path.join(ROOT, p))


def check_paths_in(where, text, what):
    for m in PATH_RE.finditer(text or ""):
        if "${" in m.group(1):
            continue
        if not path_exists(m.group(1)):
            problem(where, f"{what} names {m.group(1)}, which does not exist")


def triggers(doc):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    return doc.get("on", doc.get(True))


def check_workflow(path, cflite):
    doc = load(path)
    if not isinstance(doc, dict):
        if doc is not None:
            problem(path, "not a mapping")
        return
    on = triggers(doc)
    if not on:
        problem(path, "no triggers (on:)")
    if isinstance(on, dict):
        for event in on.values():
            if isinstance(event, dict):
                for p in event.get("paths", []) or []:
                    if not path_exists(p):
                        problem(path, f"paths filter {p} matches nothing in the repository")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        problem(path, "no jobs")
        return
    for name, job in jobs.items():
        steps = job.get("steps") if isinstance(job, dict) else None
        if not isinstance(steps, list) or not steps:
            problem(path, f"job {name} has no steps")
            continue
        for i, st in enumerate(steps):
            if not isinstance(st, dict) or ("uses" in st) == ("run" in st):
                problem(path, f"job {name} step {i}: needs exactly one of uses and run")
                continue
            check_paths_in(path, st.get("run"), f"job {name} step {i}")
            for k, v in (st.get("with") or {}).items():
                if isinstance(v, str):
                    check_paths_in(path, v, f"job {name} step {i} input {k}")
            uses = st.get("uses", "")
            if uses.startswith("./") and not os.path.exists(os.path.join(ROOT, uses, "action.yml")):
                problem(path, f"job {name} step {i} uses {uses}, which has no action.yml")
            if "clusterfuzzlite/actions/" in uses:
                cflite.append((path, name, uses, st.get("with") or {}))


def check_cflite(entries):
    project = load(os.path.join(ROOT, ".clusterfuzzlite", "project.yaml")) or {}
    language = project.get("language")
    for f in ("Dockerfile", "build.sh", "project.yaml"):
        if not os.path.exists(os.path.join(ROOT, ".clusterfuzzlite", f)):
            problem(os.path.join(ROOT, ".clusterfuzzlite"), f"{f} is missing")
    modes = set()
    for path, job, uses, w in entries:
        if uses.endswith("build_fuzzers@v1") and w.get("language") != language:
            problem(path, f"job {job}: language {w.get('language')!r}, project.yaml says {language!r}")
        if "run_fuzzers" in uses:
            mode = w.get("mode", "code-change")
            if mode not in CFLITE_MODES:
                problem(path, f"job {job}: mode {mode!r} is not one ClusterFuzzLite has")
            modes.add(mode)
            if "github-token" not in w:
                problem(path, f"job {job}: run_fuzzers without github-token")
    missing = CFLITE_MODES - modes
    if missing:
        problem(os.path.join(ROOT, ".github", "workflows"), f"no ClusterFuzzLite job runs mode(s) {sorted(missing)}")


def check_action(path):
    doc = load(path)
    if not isinstance(doc, dict):
        return
    inputs = doc.get("inputs") or {}
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problem(path, "runs.using is not composite")
    text = open(path, encoding="utf-8").read()
    for name in re.findall(r"inputs\.([\w-]+)", text):
        if name not in inputs:
            problem(path, f"inputs.{name} is used but not declared")
    for i, st in enumerate(runs.get("steps") or []):
        if "run" in st and "shell" not in st:
            problem(path, f"step {i}: a composite run step needs a shell")
        check_paths_in(path, st.get("run"), f"step {i}")
    for k in ("name", "description"):
        if not doc.get(k):
            problem(path, f"no {k}")


def check_dockerfile(path):
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        words = line.split()
        if len(words) >= 3 and words[0] == "COPY" and not any(w.startswith("--from") for w in words):
            for src in words[1:-1]:
                if not path_exists(src.rstrip("/")) and src != ".":
                    problem(path, f"line {n}: COPY {src}: no such path")


def main():
    workflows = sorted(glob.glob(os.path.join(ROOT, ".github", "workflows", "*.yml")))
    if not workflows:
        problem(ROOT, "no workflow in .github/workflows")
    cflite = []
    for w in workflows:
        check_workflow(w, cflite)
    check_cflite(cflite)
    check_action(os.path.join(ROOT, "action.yml"))
    for d in ("Dockerfile", ".clusterfuzzlite/Dockerfile"):
        check_dockerfile(os.path.join(ROOT, d))
    for p in PROBLEMS:
        print(p)
    print(f"{len(workflows)} workflow(s), action.yml, 2 Dockerfiles: "
          f"{'clean' if not PROBLEMS else str(len(PROBLEMS)) + ' problem(s)'}")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
