#!/usr/bin/env python3
"""The citation checker finds each kind of broken citation, and passes a clean tree."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(HERE, '..', '..', 'scripts', 'check_citations.py')

SPEC = ('# Wire\n\n<a id="s2"></a>\n## 2 Signatures\n\n<a id="s2.2"></a>\n'
        '### 2.2 V1\n\nSee [edition](ed.md#errors) and ed.md §1.\n')
SPEC_ED = '# Edition\n\n<a id="errors"></a>\n## 1 Errors\n'
CASE = '{"id": "a/b", "doc": {"clause": "x", "source": "%s"}}\n'


def tree(root, case_source, doc_text):
    for d in ('spec', 'docs', 'conformance/cases/a'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    files = {
        'spec/wire.md': SPEC,
        'spec/ed.md': SPEC_ED,
        'conformance/cases/a/b.json': CASE % case_source,
        'docs/page.md': doc_text,
        'README.md': 'readme\n',
    }
    for rel, text in files.items():
        with open(os.path.join(root, rel), 'w', encoding='utf-8') as f:
            f.write(text)


def run(case_source, doc_text):
    with tempfile.TemporaryDirectory() as root:
        tree(root, case_source, doc_text)
        p = subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True)
        return p.returncode, p.stdout


def expect(name, case_source, doc_text, rc, needle):
    got_rc, out = run(case_source, doc_text)
    if got_rc != rc or needle not in out:
        print('FAIL %s: rc %d (want %d), output:\n%s(want a line with %r)'
              % (name, got_rc, rc, out, needle))
        return False
    print('ok   %s' % name)
    return True


def main():
    ok = True
    ok &= expect('clean tree', 'spec/wire.md#s2.2',
                 'The V1 rules (spec/wire.md §2.2, §2) and spec/ed.md#errors.\n', 0, '')
    ok &= expect('several citations, an RFC and a repository file',
                 'RFC 9112 §6.1; spec/wire.md#s2.2; docs/page.md (a section)',
                 'framing as RFC 9112 says (§6.1, §6.3)\n', 0, '')
    ok &= expect('case source names a missing repository file',
                 'spec/wire.md#s2; docs/nope.md (x)', 'x\n', 1, 'no file docs/nope.md')
    ok &= expect('case source names a missing anchor', 'spec/wire.md#s9', 'x\n', 1,
                 'has no anchor #s9')
    ok &= expect('case source names a missing file', 'spec/nope.md#s2', 'x\n', 1,
                 'no file spec/nope.md')
    ok &= expect('case source is not a citation', 'the docs', 'x\n', 1,
                 'is not spec/<file>.md#<anchor>')
    ok &= expect('doc cites a missing section', 'spec/wire.md#s2', 'see spec/wire.md §2.3\n', 1,
                 'has no section §2.3')
    ok &= expect('doc has a bare section sign', 'spec/wire.md#s2', 'see §2.2 above\n', 1,
                 'does not follow a spec/<file>.md')
    ok &= expect('doc cites a missing anchor', 'spec/wire.md#s2', 'see spec/ed.md#nope\n', 1,
                 'spec/ed.md has no anchor #nope')
    ok &= expect('doc cites research outside the repo', 'spec/wire.md#s2',
                 'see ecs-rpc-wire.md for more\n', 1, 'not in the repository')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
