#!/usr/bin/env python3
"""`aipa conform --check-fixtures` against a sound and a broken fixture protocol.

Each badserver fixture fault (docs/badserver.md, fx-*) must end in exit
status 1 with a FAIL line naming the broken rule; the reference (badserver
without a fault, and the embedded server) must pass every check with exit 0;
a target that does not answer gives exit 2.

Usage: check_fixtures_test.py AIPA BADSERVER [FAULT ...]
"""
import os
import re
import subprocess
import sys

TOKEN = 'aipa-badserver'

# fault -> (a FAIL line must match this regular expression)
EXPECT = {
    'fx-any-token': r'^FAIL  token \(none\): expected 403, got 200',
    'fx-info-protocol': r'^FAIL  info: Protocol must be the integer 1',
    'fx-edition-ignored': r'^FAIL  edition \(2018-08-02\): PUT answered 2018-08-02 but '
                          r'GET /_aipa/info still says 2024-12-20',
    'fx-reset-ignored': r'^FAIL  reset undoes everything: \d+ instances after the reset, '
                        r'\d+ in the seed state',
    'fx-status-ignored': r'^FAIL  instances \(Status Stopped\): sent \{"Status":"Stopped"\}; '
                         r'GET /_aipa/state shows Status as "Running"',
    'fx-next-error-ignored': r'^FAIL  instances \(AipaNextAllocateError\): .*shows '
                             r'AipaNextAllocateError as ""',
    'fx-accept-bad': r'^FAIL  instances refused \(unknown field\): expected 400, got 201',
    'fx-pool-ignored': r'^FAIL  pool \(Free 1\): answered 1, but the state\'s FreeCount is \d+',
    'fx-state-cidr': r'^FAIL  state \(seed\): GET /_aipa/state: .*47\.96\.0\.1/16.* not a CIDR block',
    'fx-state-counters': r'^FAIL  state \(seed\): GET /_aipa/state: state\.Counters\.PoolFree '
                         r'is \d+ but Pool\.FreeCount is \d+',
    'fixture-500': r'^FAIL  token \(none\): expected 403, got 500',
}


def start_badserver(badserver, fault):
    p = subprocess.Popen([badserver, '--fault', fault, '--max-seconds', '120',
                          '--fixture-token', TOKEN],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = p.stdout.readline().strip()
    if not port.isdigit():
        p.kill()
        raise RuntimeError('badserver --fault %s printed no port' % fault)
    return p, 'http://127.0.0.1:%s/' % port


def check(aipa, target):
    # badserver's key (and the embedded server's default), so the API checks run too
    env = dict(os.environ, AIPA_FIXTURE_TOKEN=TOKEN, AIPA_ACCESS_KEY_ID='testid',
               AIPA_ACCESS_KEY_SECRET='testsecret')
    args = [aipa, 'conform', '--check-fixtures', '--timeout', '20']
    if target is not None:
        args += ['--target', target]
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def one(aipa, badserver, fault):
    if fault == 'embedded':
        rc, out, err = check(aipa, None)
    elif fault == 'unreachable':
        rc, out, err = check(aipa, 'http://127.0.0.1:9/')
    else:
        srv, url = start_badserver(badserver, fault)
        try:
            rc, out, err = check(aipa, url)
        finally:
            srv.terminate()
            srv.wait(timeout=30)
    fails = [l for l in out.splitlines() if l.startswith('FAIL')]
    if fault in ('none', 'embedded'):
        ok = (rc == 0 and not fails and
              re.search(r'^fixture protocol: \d+ passed, 0 failed$', out, re.M) and
              re.search(r'^ok    API: AipaNextAllocateError fails one allocation: 403 ', out, re.M)
              and re.search(r'^ok    API: reset clears the nonce cache', out, re.M))
        want = 'exit 0 and no FAIL line'
    elif fault == 'unreachable':
        ok = rc == 2 and 'then no answer' in out
        want = 'exit 2 and "then no answer"'
    else:
        ok = rc == 1 and any(re.search(EXPECT[fault], l) for l in fails)
        want = 'exit 1 and a FAIL line matching %r' % EXPECT[fault]
    print('%s %s: exit %d, %d FAIL line(s)' % ('ok  ' if ok else 'FAIL', fault, rc, len(fails)))
    if not ok:
        print('  wanted %s; output:\n%s%s' % (want, out, err))
    return bool(ok)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    aipa, badserver = sys.argv[1], sys.argv[2]
    faults = sys.argv[3:] or (['none', 'embedded', 'unreachable'] + sorted(EXPECT))
    results = [one(aipa, badserver, f) for f in faults]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
