#!/usr/bin/env python3
"""Checks that every citation of the specification resolves.

- Every conformance case's doc.source is one or more citations separated by
  "; ", each spec/<file>.md#<anchor> naming an existing file and anchor, a
  repository file that exists (docs/serve.md, with optional words after it),
  an http(s) URL, or an external standard (RFC 9112 §6.1).
- In the docs and the sources, every spec/<file>.md#<anchor> and
  spec/<file>.md §N.M names an existing file and section, every § follows a
  spec/<file>.md (or an RFC number) on the same line, and no text cites a
  file that is not in the repository (the research notes the spec was
  written from).
- Inside spec/, relative links [..](<file>.md#<anchor>) resolve.

Usage: scripts/check_citations.py [REPO_ROOT]. Exit 0 when all resolve,
1 with one line per problem otherwise.
"""
import json
import os
import re
import sys

ANCHOR_RE = re.compile(r'<a id="([^"]+)"></a>')
HEADING_RE = re.compile(r'^#+\s+(\d+(?:\.\d+)*)\s')
# An anchor may hold dots (s2.2) but does not end with one (end of sentence).
ANCHOR = r'#([A-Za-z0-9_.-]*[A-Za-z0-9_-])'
SPEC_REF_RE = re.compile(r'spec/([A-Za-z0-9_.-]+\.md)(?:' + ANCHOR + ')?')
SECTION_RE = re.compile(r'§\s?(\d+(?:\.\d+)*)')
LINK_RE = re.compile(r'\]\(([A-Za-z0-9_.-]+\.md)(?:' + ANCHOR + r')?\)')
BARE_RE = re.compile(r'(?<![/\w.(])([a-z0-9-]+\.md)(?=\s*§)')
RFC_RE = re.compile(r'\bRFC ?\d{3,5}\b')
GONE_RE = re.compile(r'ecs-rpc-wire\.md|AllocatePublicIpAddress\.seed\.md|'
                     r'(?<![\w/])research/[\w./-]+')

TEXT_DIRS = ['docs', 'conformance', 'spec', 'harness', 'reference_impl', 'tests',
             'fuzz', 'scripts']
TEXT_EXT = ('.md', '.c', '.h', '.py', '.js', '.sh', '.txt', '.json')
# This script and the self-test's inputs cite on purpose what must not resolve.
SKIP = {'scripts/check_citations.py'}
SKIP_DIRS = ('conformance/cases/', 'tests/sdk/node_modules/', 'tests/spec/')


def load_spec(root):
    spec = {}
    sdir = os.path.join(root, 'spec')
    for name in sorted(os.listdir(sdir)):
        if not name.endswith('.md'):
            continue
        anchors, numbers = set(), set()
        with open(os.path.join(sdir, name), encoding='utf-8') as f:
            for line in f:
                anchors.update(ANCHOR_RE.findall(line))
                m = HEADING_RE.match(line)
                if m:
                    numbers.add(m.group(1))
        spec[name] = (anchors, numbers)
    return spec


def resolve(spec, fname, anchor):
    if fname not in spec:
        return 'no file spec/%s' % fname
    if anchor is not None and anchor not in spec[fname][0]:
        return 'spec/%s has no anchor #%s' % (fname, anchor)
    return None


def check_source_part(root, spec, part):
    """None when one citation of a doc.source resolves, else why not."""
    if part.startswith('https://') or part.startswith('http://'):
        return None
    if re.fullmatch(r'RFC \d{3,5}( §\d+(\.\d+)*)?', part):
        return None
    m = re.fullmatch(r'spec/([A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_.-]+)', part)
    if m is not None:
        return resolve(spec, m.group(1), m.group(2))
    m = re.match(r'((?:docs|conformance)/[A-Za-z0-9_./-]+\.md)(?: |$)', part)
    if m is not None:
        if os.path.isfile(os.path.join(root, m.group(1))):
            return None
        return 'no file %s' % m.group(1)
    return ('%r is not spec/<file>.md#<anchor>, a repository file, a URL or an RFC section'
            % part)


def check_cases(root, spec, problems):
    cdir = os.path.join(root, 'conformance', 'cases')
    for dirpath, _, files in os.walk(cdir):
        for name in sorted(files):
            if not name.endswith('.json'):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            try:
                with open(path, encoding='utf-8') as f:
                    case = json.load(f)
                src = case['doc']['source']
            except (OSError, ValueError, KeyError, TypeError) as e:
                problems.append('%s: cannot read doc.source (%s)' % (rel, e))
                continue
            for part in src.split(';'):
                why = check_source_part(root, spec, part.strip())
                if why:
                    problems.append('%s: doc.source %r: %s' % (rel, src, why))


def check_line(rel, lineno, line, spec, problems, in_spec):
    where = '%s:%d' % (rel, lineno)
    if GONE_RE.search(line):
        problems.append('%s: cites a file that is not in the repository: %s'
                        % (where, GONE_RE.search(line).group(0)))
    events = []
    for m in SPEC_REF_RE.finditer(line):
        events.append((m.start(), 'ref', m))
    for m in SECTION_RE.finditer(line):
        events.append((m.start(), 'sec', m))
    for m in RFC_RE.finditer(line):
        events.append((m.start(), 'rfc', m))
    if in_spec:
        for m in LINK_RE.finditer(line):
            events.append((m.start(), 'link', m))
        for m in BARE_RE.finditer(line):
            events.append((m.start(), 'link', m))
    events.sort(key=lambda e: e[0])
    current = None
    for _, kind, m in events:
        if kind == 'rfc':
            current = 'RFC'  # an external standard's sections are not ours to check
            continue
        if kind in ('ref', 'link'):
            current = m.group(1)
            why = resolve(spec, current, m.group(2) if m.re is not BARE_RE else None)
            if why:
                problems.append('%s: %s' % (where, why))
        elif current is None:
            if in_spec and rel.endswith('/wire.md'):
                current = 'wire.md'  # wire.md's own sections
            else:
                problems.append('%s: §%s does not follow a spec/<file>.md on the same line'
                                % (where, m.group(1)))
                continue
        if kind == 'sec' and current not in (None, 'RFC'):
            if current in spec and m.group(1) not in spec[current][1]:
                problems.append('%s: spec/%s has no section §%s' % (where, current, m.group(1)))


def check_text(root, spec, problems):
    paths = [os.path.join(root, 'README.md')]
    for d in TEXT_DIRS:
        for dirpath, dirnames, files in os.walk(os.path.join(root, d)):
            dirnames[:] = [x for x in dirnames if x not in ('node_modules', 'build')]
            for name in files:
                if name.endswith(TEXT_EXT):
                    paths.append(os.path.join(dirpath, name))
    for path in sorted(paths):
        rel = os.path.relpath(path, root).replace(os.sep, '/')
        if rel in SKIP or any(rel.startswith(p) for p in SKIP_DIRS):
            continue
        if rel.endswith('.json') and not rel.startswith('conformance/profiles/'):
            continue
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                for lineno, line in enumerate(f, 1):
                    check_line(rel, lineno, line, spec, problems, rel.startswith('spec/'))
        except OSError as e:
            problems.append('%s: %s' % (rel, e))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    root = os.path.abspath(root)
    spec = load_spec(root)
    problems = []
    check_cases(root, spec, problems)
    check_text(root, spec, problems)
    for p in problems:
        print(p)
    if problems:
        print('%d unresolved citation(s)' % len(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
